package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/dynakv/dynakv/ring/member"
)

// GossipKey derives memberlist's encryption key from the cluster secret,
// so that only nodes that know the secret can join or speak.
func GossipKey(secret string) []byte {
	key := sha256.Sum256([]byte("dynakv gossip\x00" + secret))
	return key[:]
}

// StartGossip starts memberlist with mc as this cluster's gossip: it sets
// mc's NodeID (Self), Meta, State (c) and Events (a Poke of the
// reconciler), adds the gossip addresses of the persisted ring's other
// members to mc.Join (a restarted node finds its ring without --join),
// attaches the membership and runs the reconciler until ctx ends. The
// caller leaves and shuts down the returned membership.
func (c *Cluster) StartGossip(ctx context.Context, mc member.Config) (*member.Membership, error) {
	mc.Join = slices.Clone(mc.Join)
	if st := c.Current(); st != nil {
		for _, m := range st.Members() {
			if m.ID != c.cfg.Self && !slices.Contains(mc.Join, m.GossipAddr) {
				mc.Join = append(mc.Join, m.GossipAddr)
			}
		}
	}
	mc.NodeID, mc.Meta, mc.State = string(c.cfg.Self), c.Meta(), c
	mc.Events = func(member.Member) { c.Poke() }
	ml, err := member.Start(mc)
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip: %w", err)
	}
	c.Attach(ml)
	go c.Run(ctx)
	return ml, nil
}
