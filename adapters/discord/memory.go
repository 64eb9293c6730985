package discord

import (
	"crypto/sha256"
	"strconv"
	"sync"

	"github.com/clmbridge/clmbridge/clm"
)

// Bounds on what the adapter remembers about messages and channels.
const (
	// maxRememberedMessages is how many messages' pointers the adapter
	// remembers, to tell an edit that adds a pointer from one that does not.
	maxRememberedMessages = 4096
	// maxRememberedGuilds and maxChannelsPerGuild bound the map of the
	// channels seen in each guild (for GUILD_MEMBER_REMOVE).
	maxRememberedGuilds = 1024
	maxChannelsPerGuild = 1024
)

// pointerKey identifies a pointer without keeping its (possibly long) data.
type pointerKey [sha256.Size]byte

func keyOfPointer(p clm.Pointer) pointerKey {
	return sha256.Sum256([]byte(strconv.FormatInt(p.Epoch, 10) + "_" + p.Nonce + "_" + p.Data + "_" + p.Tag))
}

// pointerMemory remembers the pointers each recent message held, so that
// an edit reaches the core only when it adds one. The oldest message is
// forgotten first; an edit of a forgotten message counts as new.
type pointerMemory struct {
	mu   sync.Mutex
	msgs map[string]map[pointerKey]struct{}
	ring []string
	next int
}

func newPointerMemory(n int) *pointerMemory {
	return &pointerMemory{msgs: make(map[string]map[pointerKey]struct{}, n), ring: make([]string, n)}
}

// add records the pointers in text as held by message id, and reports
// whether at least one of them was not recorded for it before.
func (pm *pointerMemory) add(id, text string) (added bool) {
	ps := clm.Extract(text)
	if len(ps) == 0 {
		return false
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	set, ok := pm.msgs[id]
	if !ok {
		if old := pm.ring[pm.next]; old != "" {
			delete(pm.msgs, old)
		}
		pm.ring[pm.next] = id
		pm.next = (pm.next + 1) % len(pm.ring)
		set = make(map[pointerKey]struct{}, len(ps))
		pm.msgs[id] = set
	}
	for _, p := range ps {
		k := keyOfPointer(p)
		if _, had := set[k]; !had {
			set[k] = struct{}{}
			added = true
		}
	}
	return added
}

// guildChannels remembers which channels of each guild the adapter has seen
// events in: the core notes members per channel (for watch), so when a
// member leaves a guild these are the channels to forget them in.
type guildChannels struct {
	mu     sync.Mutex
	guilds map[string]*channelSet
	order  []string // guild ids, oldest first
	// evicted is true once a guild was forgotten to stay within bounds:
	// from then on an unknown guild may be one whose channels the core knows.
	evicted bool
}

type channelSet struct {
	ids map[string]struct{}
	// partial is true once a channel was not recorded (the set was full):
	// the set no longer names every channel of the guild the core may know.
	partial bool
}

func newGuildChannels() *guildChannels { return &guildChannels{guilds: map[string]*channelSet{}} }

// note records that channelID belongs to guildID.
func (g *guildChannels) note(guildID, channelID string) {
	if guildID == "" || channelID == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	set := g.guilds[guildID]
	if set == nil {
		if len(g.order) >= maxRememberedGuilds {
			delete(g.guilds, g.order[0]) // forget the guild seen first
			g.order = g.order[1:]
			g.evicted = true
		}
		set = &channelSet{ids: map[string]struct{}{}}
		g.guilds[guildID] = set
		g.order = append(g.order, guildID)
	}
	if _, ok := set.ids[channelID]; ok {
		return
	}
	if len(set.ids) >= maxChannelsPerGuild {
		set.partial = true
		return
	}
	set.ids[channelID] = struct{}{}
}

// channels returns the channels seen in guildID; complete is false when
// the adapter may have seen channels of that guild it no longer remembers.
func (g *guildChannels) channels(guildID string) (ids []string, complete bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	set := g.guilds[guildID]
	if set == nil {
		return nil, !g.evicted
	}
	for id := range set.ids {
		ids = append(ids, id)
	}
	return ids, !set.partial
}
