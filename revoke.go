package sessions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// Renewal and logout on a Backend: forwarding markers.
//
// A renewal moves a session from ID X to a new ID Y. A logout that loaded X
// before the renewal finished would delete X and find nothing to delete, so
// Y, which its user's browser now holds, would outlive the logout. To stop
// that, a renewal leaves a forwarding marker: a record under markerID(X),
// signed under a name bound to X, holding Y. Its order of writes is
//
//	Create(Y)            the values under the new ID
//	Create(markerID(X))  fails if another renewal of X won: revoked
//	Delete(X)            fails if a logout or a renewal removed X first: revoked
//
// and a logout (destroy) of X runs Delete(X), then Load(markerID(X)), and
// when a marker is there destroys Y the same way, and so on down the chain.
// Whatever the interleaving, a logout that returns nil leaves no live
// session renewed from the one it ended: either the logout's Delete(X) came
// first and the renewal is revoked (it deletes Y itself), or the renewal's
// Delete(X) came first, after its marker was written, and the logout follows
// the marker. Every step is one ordinary Backend call on one ID, so this
// holds on any Backend, Redis Cluster included.
//
// A marker lives as long as X would have lived, and at least as long as Y's
// first TTL, so that any request that loaded X can still follow it.

// maxForwards bounds the chain of renewals a logout follows; a session is
// renewed at login and when privileges change, a few times at most within
// the life of a marker.
const maxForwards = 32

// renew moves a loaded session to a new ID (see the comment above) and
// returns the new ID. plain, the serialization of the values, holds the old
// ID as session.from (see save).
func (s *ServerStore) renew(ctx context.Context, session *Session, opts *Options, ttl time.Duration, now time.Time, plain []byte) (string, error) {
	old := session.server.loadedID
	id, err := s.create(ctx, session, opts, ttl, plain)
	if err != nil {
		return "", err
	}
	b := getBuffer()
	defer putBuffer(b)
	if b.B, err = encodeFirst(s.Codecs, b.B[:0], markerName(old), id); err != nil {
		return "", errors.Join(wrapError("encoding the forwarding marker", err), s.deleteQuietly(ctx, id, session.user))
	}
	switch err := s.Backend.Create(ctx, markerID(old), b.B, max(ttl, session.server.expires.Sub(now))); {
	case errors.Is(err, ErrRecordExists):
		// Another request renewed the old ID first: this renewal must not
		// leave a second live copy of the session.
		s.revoke(session)
		return "", errors.Join(ErrSessionRevoked, s.deleteQuietly(ctx, id, session.user))
	case err != nil:
		return "", errors.Join(wrapError("saving the forwarding marker", err), s.deleteQuietly(ctx, id, session.user))
	}
	err = s.Backend.Delete(ctx, old)
	if err == nil {
		s.indexRemove(ctx, session.server.indexedUser, old)
		return id, nil
	}
	// Either another request destroyed the old record first (this renewal
	// must not bring its values back), or the backend failed; in both
	// cases the new record goes, and its marker after it (a marker left
	// pointing to a live record would let a logout find it).
	cleanup := s.deleteQuietly(ctx, id, session.user)
	if cleanup == nil {
		cleanup = s.deleteQuietly(ctx, markerID(old), "")
	}
	if errors.Is(err, ErrRecordNotFound) {
		s.revoke(session)
		return "", errors.Join(ErrSessionRevoked, cleanup)
	}
	return "", errors.Join(wrapError("deleting the old record", err), cleanup)
}

// logout deletes the session's record, with every record renewed from it,
// and sets the deletion cookie. It deletes the ID the request's cookie
// carried even when its record could not be loaded (the backend failed, or
// another request renewed it meanwhile); when the deletion fails it returns
// the error and sets no cookie, so that the browser keeps its cookie and the
// logout can be tried again.
func (s *ServerStore) logout(ctx *fasthttp.RequestCtx, session *Session, opts *Options, now time.Time) error {
	id := session.server.loadedID
	if id == "" {
		id = session.server.cookieID
	}
	if id != "" {
		if _, err := s.destroy(ctx, id, "", session.server.indexedUser); err != nil {
			return wrapError("deleting record", err)
		}
	}
	if session.from != "" {
		// The marker of the ID this session was renewed from points to a
		// deleted record now: tidiness (it would expire anyway).
		_ = s.Backend.Delete(ctx, markerID(session.from))
		session.from = ""
	}
	s.sendToken(ctx, session.name, session.server.tokenFrom, nil, opts, now)
	session.server = serverState{}
	session.ID = ""
	return nil
}

// destroy deletes the record under id and every record renewed from it,
// following the forwarding markers, but stops at except (a session to
// keep, or ""), and removes the IDs it deleted from the set of user (see
// indexRemove). It returns how many live records it deleted, and a nil
// error when none of them is left, whether or not they existed.
func (s *ServerStore) destroy(ctx context.Context, id, except, user string) (int, error) {
	var markers []string
	deleted := 0
	for range maxForwards {
		if id == except {
			return deleted, nil
		}
		err := s.Backend.Delete(ctx, id)
		switch {
		case err == nil:
			deleted++
			s.indexRemove(ctx, user, id)
		case !errors.Is(err, ErrRecordNotFound):
			return deleted, err
		}
		mid := markerID(id)
		data, _, err := s.Backend.Load(ctx, mid)
		if errors.Is(err, ErrRecordNotFound) {
			// The end of the chain. The markers passed point to deleted
			// records; removing them is tidiness (they expire anyway).
			for _, m := range markers {
				_ = s.Backend.Delete(ctx, m)
			}
			return deleted, nil
		}
		if err != nil {
			return deleted, wrapError("reading the forwarding marker of a renewed session", err)
		}
		var next string
		if _, err := decodeAny(s.Codecs, markerName(id), data, &next); err != nil {
			return deleted, wrapError("the forwarding marker of a renewed session", err)
		}
		if !validID(next) {
			return deleted, fmt.Errorf("%w: the forwarding marker of a renewed session holds no valid ID", ErrCookieInvalid)
		}
		markers = append(markers, mid)
		id = next
	}
	return deleted, fmt.Errorf("%w: more than %d forwarding markers in a row", ErrCookieInvalid, maxForwards)
}
