package crdt

// History returns o's whole causal context, its version vector and the
// single events known beyond it, as an Object holding nothing else. Every
// write of a key adds an event to its context, so two states of a key
// hold the same writes exactly when their Histories are Equal, whatever
// their values and however far time has run; History(o).Encode() is
// canonical and small, what WATCH remembers of a key.
func History(o Object) Object { return Object{ctx: o.ctx} }
