package scheduler

// scratch holds the working slices of one Place call. A Cluster keeps a
// pool of them, so that a pass placing hundreds of services on thousands of
// hosts does not allocate (and collect) the same buffers again and again.
// Nothing in a returned Plan aliases a scratch slice.
type scratch struct {
	cands     []cand
	matched   []int32
	taken     []bool
	rankTaken []bool
	head      []int32
	next      []int32
	order     []int
	parted    []int
	existing  []keptDaemon
	toAdd     []int32
	toRemove  []int
}

func (c *Cluster) getScratch() *scratch {
	if sc, ok := c.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{}
}

func (c *Cluster) putScratch(sc *scratch) { c.pool.Put(sc) }

// zeroed returns s resized to n with every element zero.
func zeroed[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
