package coordinator

// LockRefs returns how many writes and units hold or wait for key's lock,
// so tests can see that a write is waiting without timing it.
func (c *Coordinator) LockRefs(key string) int { return c.locks.waiters(key) }
