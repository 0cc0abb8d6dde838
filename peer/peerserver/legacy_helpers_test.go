package peerserver_test

import (
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// asDVV returns a plain string object as the dvv.Object it encodes as
// (crdt.Object.DVV; the zero Object for anything else): the tests written
// against dvv objects read siblings and contexts through it.
func asDVV(o crdt.Object) dvv.Object {
	d, _ := o.DVV()
	return d
}

// liveSiblings returns the live string siblings of o at now (Unix ms), as
// dvv.Live did (crdt.Siblings; none for another type).
func liveSiblings(o crdt.Object, now int64) []dvv.Sibling {
	s, _ := crdt.Siblings(o, now)
	return s
}

var _, _ = asDVV, liveSiblings
