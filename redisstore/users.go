package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/redis/go-redis/v9"
)

// The user index (sessions.UserIndex): for each user key, a sorted set
// under KeyPrefix + "user:" + the hex SHA-256 of the user key, whose
// members are the IDs of the user's sessions and whose scores are, in
// milliseconds of the store's clock, when each entry was added or last
// found to name a live record. See Store, "Log out everywhere".

const (
	// pruneAbove is the size of a set above which AddUserID prunes it, so
	// that the set of a user who never lists their sessions stays small.
	pruneAbove = 32

	// pruneBatch is how many of its oldest entries AddUserID checks at
	// most, and pruneMax how many UserIDs checks at most.
	pruneBatch = 32
	pruneMax   = 1000
)

// pruneScript is the last step of prune, on the user's set alone (one
// key, so it runs on Redis Cluster): it removes the entries of ARGV[4] to
// ARGV[3+ARGV[3]], whose records were found gone, if they are still older
// than the cutoff ARGV[1] (an entry added again meanwhile stays), and
// sets the score of the others, found live, to ARGV[2] (now) unless it is
// already later. It returns how many entries it removed.
var pruneScript = redis.NewScript(`
local key, cutoff, now, dead = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local removed = 0
for i = 4, #ARGV do
	local score = redis.call('ZSCORE', key, ARGV[i])
	if score then
		score = tonumber(score)
		if i <= 3 + dead then
			if score < cutoff then
				removed = removed + redis.call('ZREM', key, ARGV[i])
			end
		elseif score < now then
			redis.call('ZADD', key, 'XX', now, ARGV[i])
		end
	end
end
return removed
`)

// userKey returns the key of the set of user. Hashing keeps any byte of a
// user key, and any hash tag, out of Redis keys; the set of a user still
// lands in a slot of its own on Cluster.
func (b *backend) userKey(user string) string {
	return b.store.KeyPrefix + "user:" + backendkit.UserKey(user)
}

// millis returns t as a score: milliseconds since the Unix epoch.
func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// AddUserID adds id to the set of user with ZADD, scored now, and reads
// the set's size and its oldest entries older than the grace in the same
// round trip; when the set holds more than pruneAbove entries, it prunes
// those (see prune). With WaitReplicas on Cluster and Ring, the ZADD
// waits for replicas like a Create: the record it precedes lives on
// another master, which a failover of this one would not roll back.
func (b *backend) AddUserID(ctx context.Context, user, id string) error {
	key, now := b.userKey(user), backendkit.Now(b.store.Now)
	var (
		add, size *redis.IntCmd
		old       *redis.StringSliceCmd
	)
	queue := func(ctx context.Context, p redis.Pipeliner) {
		add = p.ZAdd(ctx, key, redis.Z{Score: float64(now.UnixMilli()), Member: id})
		size = p.ZCard(ctx, key)
		old = p.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: "(" + millis(now.Add(-backendkit.UserIndexGrace)), Count: pruneBatch})
	}
	var waitErr error
	if b.waitsOnCreate() {
		var sendErr error
		if sendErr, waitErr = b.durably(ctx, "ZADD", key, queue); sendErr != nil {
			return fmt.Errorf("sessions: redis ZADD: %w", sendErr)
		}
	} else {
		c, cancel := backendkit.Context(ctx, b.store.Timeout)
		pipe := b.store.client.Pipeline()
		queue(c, pipe)
		_, _ = pipe.Exec(c) // each command holds its own error
		cancel()
	}
	if err := b.noteFailure(add.Err()); err != nil {
		return fmt.Errorf("sessions: redis ZADD: %w", err)
	}
	if waitErr != nil {
		return waitErr
	}
	if size.Val() > pruneAbove && len(old.Val()) > 0 {
		_, _ = b.prune(ctx, key, old.Val(), now) // tidiness: the entry is in
	}
	return nil
}

// RemoveUserID removes id from the set of user with ZREM; Redis deletes
// a set left empty.
func (b *backend) RemoveUserID(ctx context.Context, user, id string) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	if err := b.noteFailure(b.store.client.ZRem(ctx, b.userKey(user), id).Err()); err != nil {
		return fmt.Errorf("sessions: redis ZREM: %w", err)
	}
	return nil
}

// UserIDs returns the members of the set of user (ZRANGE), then prunes
// its entries older than the grace, up to pruneMax of the oldest. It
// returns them all, pruned ones included: the caller must see every entry
// that was there when it asked, for a record that is gone may have been
// renewed to one whose forwarding marker RevokeUser must follow.
func (b *backend) UserIDs(ctx context.Context, user string) ([]string, error) {
	key := b.userKey(user)
	c, cancel := backendkit.Context(ctx, b.store.Timeout)
	zs, err := b.store.client.ZRangeWithScores(c, key, 0, -1).Result()
	cancel()
	if b.noteFailure(err) != nil {
		return nil, fmt.Errorf("sessions: redis ZRANGE: %w", err)
	}
	if len(zs) == 0 {
		return nil, nil
	}
	now := backendkit.Now(b.store.Now)
	cutoff := float64(now.Add(-backendkit.UserIndexGrace).UnixMilli())
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i], _ = z.Member.(string)
	}
	old := 0 // ZRANGE sorts by score: the old entries come first
	for old < len(zs) && old < pruneMax && zs[old].Score < cutoff {
		old++
	}
	if old > 0 {
		_, _ = b.prune(ctx, key, ids[:old], now) // tidiness: the list is read
	}
	return ids, nil
}

// prune checks whether the records of ids, entries of the set key older
// than the grace as of now, exist (EXISTS, one per record key, pipelined:
// on Cluster the records live in other slots, and go-redis sends each
// node its own), then runs pruneScript on the set: the entries whose
// record is gone leave it, the others are marked as found live, so that
// the next prune by AddUserID, which looks at the oldest entries, checks
// other ones. It runs under one Timeout, and returns how many entries it
// removed. It is tidiness: its errors only leave entries for the next
// prune, and ServerStore skips entries whose record is gone.
func (b *backend) prune(ctx context.Context, key string, ids []string, now time.Time) (int, error) {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	pipe := b.store.client.Pipeline()
	exists := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		exists[i] = pipe.Exists(ctx, b.key(id))
	}
	if _, err := pipe.Exec(ctx); b.noteFailure(err) != nil {
		return 0, fmt.Errorf("sessions: redis EXISTS: %w", err)
	}
	args := make([]any, 3, 3+len(ids))
	args[0], args[1] = millis(now.Add(-backendkit.UserIndexGrace)), millis(now)
	var live []any
	for i, id := range ids {
		if exists[i].Val() == 0 {
			args = append(args, id)
		} else {
			live = append(live, id)
		}
	}
	args[2] = len(args) - 3
	n, err := pruneScript.Run(ctx, b.store.client, []string{key}, append(args, live...)...).Int()
	if b.noteFailure(err) != nil {
		return 0, fmt.Errorf("sessions: redis EVALSHA: %w", err)
	}
	return n, nil
}
