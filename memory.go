package sessions

import (
	"bytes"
	"context"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
)

// MemoryStore keeps sessions in the memory of the process, behind a signed
// ID cookie. Use it for single-process deployments and tests: sessions are
// lost when the process exits and are not shared between processes.
//
// Not with prefork: fasthttp's prefork and Fiber's Prefork: true run one
// process per CPU, each with a MemoryStore of its own, and a user's
// requests, spread over the processes, find the session only in the one
// that created it: users seem logged out at random. Use a FilesystemStore
// (the processes of one machine share its folder) or the redisstore module
// there.
//
// Records hold the encoded values, never the Values map of a session, so
// two requests of one user never share a map: each decodes its own copy,
// and the last Save wins whole. Expired records are not returned and are
// removed by Cleanup or by the cleaner that StartCleanup runs.
//
// A MemoryStore is safe for concurrent use; its records are spread over
// shards, each with its own lock.
type MemoryStore struct {
	*ServerStore
	mem *memoryBackend
}

// NewMemoryStore returns a MemoryStore with codecs made from keyPairs (see
// NewCookieStore) and the default Options.
func NewMemoryStore(keyPairs ...[]byte) *MemoryStore {
	mem := newMemoryBackend()
	s := &MemoryStore{ServerStore: NewServerStore(mem, keyPairs...), mem: mem}
	mem.now = s.ServerStore.now
	return s
}

// Len returns the number of records held: sessions, and the forwarding
// markers that renewals leave for a while (see ServerStore), expired ones
// included until they are cleaned up.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.mem.shards {
		sh := &s.mem.shards[i]
		sh.mu.Lock()
		n += len(sh.records)
		sh.mu.Unlock()
	}
	return n
}

// Cleanup removes the expired records and returns how many it removed.
func (s *MemoryStore) Cleanup() int { return s.mem.cleanup() }

// StartCleanup runs Cleanup every interval in a goroutine until the
// returned function is called; that function waits for the goroutine to
// exit and may be called more than once.
func (s *MemoryStore) StartCleanup(interval time.Duration) (stop func()) {
	return backendkit.StartCleaner(interval, func(context.Context) { s.mem.cleanup() })
}

const memoryShards = 32

type memoryRecord struct {
	data    []byte
	expires time.Time
}

type memoryShard struct {
	mu      sync.Mutex
	records map[string]memoryRecord
}

// memoryBackend is the Backend of MemoryStore, its Toucher and its
// UserIndex. Each method holds the lock of the record's shard across its
// check and its write; the user index has a lock of its own.
type memoryBackend struct {
	seed   maphash.Seed
	now    func() time.Time
	shards [memoryShards]memoryShard

	usersMu sync.Mutex
	users   map[string]map[string]time.Time // user, ID: when added
}

func newMemoryBackend() *memoryBackend {
	m := &memoryBackend{seed: maphash.MakeSeed(), now: time.Now, users: make(map[string]map[string]time.Time)}
	for i := range m.shards {
		m.shards[i].records = make(map[string]memoryRecord)
	}
	return m
}

func (m *memoryBackend) shard(id string) *memoryShard {
	return &m.shards[maphash.String(m.seed, id)%memoryShards]
}

// lock locks the shard of id, which the caller unlocks, and returns it
// with the current time, the record under id and whether that record is
// live: it exists and has not expired.
func (m *memoryBackend) lock(id string) (sh *memoryShard, now time.Time, r memoryRecord, live bool) {
	sh = m.shard(id)
	sh.mu.Lock()
	now = m.now()
	r, ok := sh.records[id]
	return sh, now, r, ok && now.Before(r.expires)
}

func (m *memoryBackend) Load(_ context.Context, id string) ([]byte, time.Time, error) {
	sh, _, r, live := m.lock(id)
	defer sh.mu.Unlock()
	if !live {
		return nil, time.Time{}, ErrRecordNotFound
	}
	return r.data, r.expires, nil // records are never modified in place
}

func (m *memoryBackend) Create(_ context.Context, id string, data []byte, ttl time.Duration) error {
	sh, now, _, live := m.lock(id)
	defer sh.mu.Unlock()
	if live {
		return ErrRecordExists
	}
	sh.records[id] = memoryRecord{data: bytes.Clone(data), expires: now.Add(ttl)}
	return nil
}

func (m *memoryBackend) Update(_ context.Context, id string, data []byte, ttl time.Duration) error {
	sh, now, _, live := m.lock(id)
	defer sh.mu.Unlock()
	if !live {
		return ErrRecordNotFound
	}
	sh.records[id] = memoryRecord{data: bytes.Clone(data), expires: now.Add(ttl)}
	return nil
}

func (m *memoryBackend) Touch(_ context.Context, id string, ttl time.Duration) error {
	sh, now, r, live := m.lock(id)
	defer sh.mu.Unlock()
	if !live {
		return ErrRecordNotFound
	}
	r.expires = now.Add(ttl)
	sh.records[id] = r
	return nil
}

func (m *memoryBackend) Delete(_ context.Context, id string) error {
	sh, _, _, live := m.lock(id)
	defer sh.mu.Unlock()
	delete(sh.records, id)
	if !live {
		return ErrRecordNotFound
	}
	return nil
}

func (m *memoryBackend) AddUserID(_ context.Context, user, id string) error {
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	set := m.users[user]
	if set == nil {
		set = make(map[string]time.Time)
		m.users[user] = set
	}
	set[id] = m.now()
	return nil
}

func (m *memoryBackend) RemoveUserID(_ context.Context, user, id string) error {
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	set := m.users[user]
	delete(set, id)
	if len(set) == 0 {
		delete(m.users, user)
	}
	return nil
}

func (m *memoryBackend) UserIDs(_ context.Context, user string) ([]string, error) {
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	return slices.Collect(maps.Keys(m.users[user])), nil
}

// cleanup removes the expired records, and the entries of the user index
// whose record is gone and that were added more than userIndexGrace ago,
// and returns how many records it removed.
func (m *memoryBackend) cleanup() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		now, held := m.now(), len(sh.records)
		maps.DeleteFunc(sh.records, func(_ string, r memoryRecord) bool { return !now.Before(r.expires) })
		n += held - len(sh.records)
		sh.mu.Unlock()
	}
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	now := m.now()
	for user, set := range m.users {
		for id, added := range set {
			sh := m.shard(id)
			sh.mu.Lock()
			_, ok := sh.records[id]
			sh.mu.Unlock()
			if !ok && now.Sub(added) > userIndexGrace {
				delete(set, id)
			}
		}
		if len(set) == 0 {
			delete(m.users, user)
		}
	}
	return n
}
