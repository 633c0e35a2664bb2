package stream

import "strings"

// clientSet is a set of clients that is cheap to iterate: a slice, with
// each member's position for removal in constant time.
type clientSet struct {
	list []*Client
	at   map[*Client]int
}

func (s *clientSet) add(c *Client) {
	if s.at == nil {
		s.at = make(map[*Client]int)
	}
	if _, ok := s.at[c]; ok {
		return
	}
	s.at[c] = len(s.list)
	s.list = append(s.list, c)
}

// remove takes c out and reports whether the set is now empty.
func (s *clientSet) remove(c *Client) bool {
	i, ok := s.at[c]
	if !ok {
		return len(s.list) == 0
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.at[s.list[i]] = i
	s.list[last] = nil
	s.list = s.list[:last]
	delete(s.at, c)
	return len(s.list) == 0
}

// gridStep is the side of a location grid cell in degrees: 36 × 18 cells.
// A box is listed in every cell it touches, a point looked up in one.
const gridStep = 10

type cell struct{ x, y int }

func cellOf(lat, lon float64) cell {
	return cell{min(int((lon+180)/gridStep), 360/gridStep-1), min(int((lat+90)/gridStep), 180/gridStep-1)}
}

// index finds the clients an event may concern without looking at the
// others: by kind, by sample residue, by a track phrase's first word, by a
// followed login, by grid cell, by home user and by list. Filter clients it
// finds are candidates whose whole filter is then checked. Guarded by the
// hub's lock.
type index struct {
	firehose clientSet
	sample   [100]clientSet
	track    map[string]*clientSet // first word of a phrase
	follow   map[string]*clientSet // lower-cased login
	grid     map[cell]*clientSet
	home     map[int64]*clientSet
	list     map[int64]*clientSet
}

func newIndex() *index {
	return &index{
		track:  make(map[string]*clientSet),
		follow: make(map[string]*clientSet),
		grid:   make(map[cell]*clientSet),
		home:   make(map[int64]*clientSet),
		list:   make(map[int64]*clientSet),
	}
}

func addTo[K comparable](m map[K]*clientSet, k K, c *Client) {
	s := m[k]
	if s == nil {
		s = &clientSet{}
		m[k] = s
	}
	s.add(c)
}

func removeFrom[K comparable](m map[K]*clientSet, k K, c *Client) {
	if s := m[k]; s != nil && s.remove(c) {
		delete(m, k)
	}
}

// boxCells calls fn for every grid cell box touches.
func boxCells(b Box, fn func(cell)) {
	lo, hi := cellOf(b.South, b.West), cellOf(b.North, b.East)
	for x := lo.x; x <= hi.x; x++ {
		for y := lo.y; y <= hi.y; y++ {
			fn(cell{x, y})
		}
	}
}

// each visits the index entries of c's spec, adding or removing.
func (ix *index) each(c *Client, add bool) {
	s := &c.spec
	set := func(cs *clientSet) {
		if add {
			cs.add(c)
		} else {
			cs.remove(c)
		}
	}
	switch s.Kind {
	case Firehose:
		set(&ix.firehose)
	case Sample:
		for r, keep := range s.Keep {
			if keep {
				set(&ix.sample[r])
			}
		}
	case FilterKind:
		for _, p := range s.Filter.Phrases {
			keyed(ix.track, p[0], c, add)
		}
		for _, l := range s.Filter.Logins {
			keyed(ix.follow, l, c, add)
		}
		for _, b := range s.Filter.Boxes {
			boxCells(b, func(k cell) { keyed(ix.grid, k, c, add) })
		}
	case Home:
		keyed(ix.home, s.User, c, add)
	case ListKind:
		keyed(ix.list, s.List, c, add)
	}
}

func keyed[K comparable](m map[K]*clientSet, k K, c *Client, add bool) {
	if add {
		addTo(m, k, c)
	} else {
		removeFrom(m, k, c)
	}
}

// candidates calls fn for every client that may receive ev: all that do,
// and filter clients whose filter fn must still check. A client may be
// passed more than once.
func (ix *index) candidates(ev *event, fn func(c *Client, check bool)) {
	each := func(cs *clientSet, check bool) {
		if cs == nil {
			return
		}
		for _, c := range cs.list {
			fn(c, check)
		}
	}
	switch ev.kind {
	case created, deleted:
		each(&ix.firehose, false)
		r := ev.st.ID % 100
		if r < 0 {
			r = -r
		}
		each(&ix.sample[r], false)
		each(ix.home[ev.st.UID], false)
		if l := ev.st.Location; l != nil && len(ix.grid) > 0 {
			each(ix.grid[cellOf(l.Lat, l.Lon)], true)
		}
		if len(ix.follow) > 0 {
			each(ix.follow[strings.ToLower(ev.st.Login)], true)
		}
		if len(ix.follow) > 0 || len(ix.track) > 0 {
			for w := range ev.messageWords() {
				each(ix.track[w], true)
				if len(w) > 1 && w[0] == '@' {
					each(ix.follow[w[1:]], true)
				}
			}
		}
	case delivered, purged:
		for _, u := range ev.homes {
			each(ix.home[u], false)
		}
		for _, l := range ev.lists {
			each(ix.list[l], false)
		}
	}
}

// size counts the index's entries, for tests that check it empties.
func (ix *index) size() int {
	n := len(ix.firehose.list) + len(ix.track) + len(ix.follow) + len(ix.grid) + len(ix.home) + len(ix.list)
	for i := range ix.sample {
		n += len(ix.sample[i].list)
	}
	return n
}
