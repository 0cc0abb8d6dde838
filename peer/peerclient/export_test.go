package peerclient

// MergesWaiting returns how many Merge calls wait for the batch in flight
// to end (merger.next).
func MergesWaiting(c *Client) int {
	c.merges.mu.Lock()
	defer c.merges.mu.Unlock()
	return len(c.merges.next)
}
