package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SessionInfo describes one session of a user, for a "your devices" page.
// It holds nothing secret: the Handle names the session for Revoke, and
// cannot be turned into its ID or cookie. It is a plain value that
// UserSessions returns a fresh copy of: safe to read from several
// goroutines, and not shared with the store.
type SessionInfo struct {
	// Handle is the session's handle (see Session.Handle).
	Handle string

	// Created is when the session was bound to its user (its login), or
	// first saved when it has an absolute lifetime; LastSaved is when its
	// values were last written (a refresh that only extends its life does
	// not change it); Expires is when it ends unless it is used again.
	Created, LastSaved, Expires time.Time

	// UserAgent is the User-Agent header of the request that bound the
	// session to its user, cut to 256 bytes. It is what the client said,
	// not proof of anything.
	UserAgent string
}

// UserSessions returns the live sessions bound to user (see
// Session.SetUser), the most recently saved first. It needs a Backend that
// implements UserIndex, and otherwise returns an error wrapping
// errors.ErrUnsupported.
//
// It reads every record in the user's index: its cost grows with the number
// of that user's sessions (one Load and one decode each), not with the
// number of all sessions. ctx bounds the backend calls.
func (s *ServerStore) UserSessions(ctx context.Context, user string) ([]SessionInfo, error) {
	ids, err := s.userIDs(ctx, user)
	if err != nil {
		return nil, err
	}
	infos := make([]SessionInfo, 0, len(ids))
	for _, id := range ids {
		// Nothing is removed from the index: a record that is not there
		// may be about to be created (see UserIndex).
		rec, err := s.loadUserRecord(ctx, user, id)
		switch {
		case err == nil:
			infos = append(infos, SessionInfo{
				Handle:    handleOf(id),
				Created:   unixTime(rec.created),
				LastSaved: unixTime(rec.saved),
				Expires:   rec.expires,
				UserAgent: rec.agent,
			})
		case !errors.Is(err, errOtherUser) && !errors.Is(err, ErrRecordNotFound):
			return nil, withContext("reading a session of a user", err)
		}
	}
	slices.SortFunc(infos, func(a, b SessionInfo) int { return b.LastSaved.Compare(a.LastSaved) })
	return infos, nil
}

// Revoke ends the session of user whose handle is handle: its record is
// deleted, with every record renewed from it, as by a logout; a request
// that loaded it earlier fails to save it (ErrSessionRevoked). A handle
// that names no live session of user (another user's, a made-up one, one
// already ended) ends nothing and returns an error wrapping
// ErrRecordNotFound; a backend that fails returns its error, never that
// one. It needs a Backend that implements UserIndex.
func (s *ServerStore) Revoke(ctx context.Context, user, handle string) error {
	ids, err := s.userIDs(ctx, user)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if handleOf(id) != handle {
			continue
		}
		_, err := s.loadUserRecord(ctx, user, id)
		if errors.Is(err, ErrRecordNotFound) || errors.Is(err, errOtherUser) {
			break
		}
		if err == nil {
			_, err = s.destroy(ctx, id, "", user)
		}
		return withContext("revoking a session", err)
	}
	return fmt.Errorf("%w: no live session of this user has that handle", ErrRecordNotFound)
}

// RevokeUser ends every session bound to user but keep (which may be nil,
// or the session of the request, for "log out other devices"), and returns
// how many live sessions it ended. When it returns nil, no session of user
// that existed when it was called can load or save again: a request that
// loaded one earlier fails to save it (ErrSessionRevoked), and a renewal in
// flight cannot carry one to a new ID (the renewal's forwarding marker is
// followed, as by a logout). Sessions bound to user after it was called
// (a new login) live. It needs a Backend that implements UserIndex.
func (s *ServerStore) RevokeUser(ctx context.Context, user string, keep *Session) (int, error) {
	ids, err := s.userIDs(ctx, user)
	if err != nil {
		return 0, err
	}
	var except string
	if keep != nil {
		except = keep.ID
	}
	n := 0
	var errs []error
	for _, id := range ids {
		if id == except {
			continue
		}
		// A record that is there must be the user's: an entry left by a
		// change of user names a session that is not theirs any more. A
		// record that is not there is destroyed all the same, so that the
		// forwarding marker of a renewal in flight is followed.
		if _, err := s.loadUserRecord(ctx, user, id); errors.Is(err, errOtherUser) {
			continue
		}
		deleted, err := s.destroy(ctx, id, except, user)
		n += deleted
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("sessions: revoking the sessions of a user: %w", errors.Join(errs...))
	}
	return n, nil
}

// errOtherUser reports a record bound to another user than the index said.
var errOtherUser = errors.New("sessions: the record is bound to another user")

// userIDs returns the IDs in the set of user, or an error wrapping
// errors.ErrUnsupported when the backend keeps no user index.
func (s *ServerStore) userIDs(ctx context.Context, user string) ([]string, error) {
	ui, ok := s.Backend.(UserIndex)
	if !ok {
		return nil, fmt.Errorf("sessions: %T keeps no index of users' sessions: %w", s.Backend, errors.ErrUnsupported)
	}
	ids, err := ui.UserIDs(ctx, user)
	if err != nil {
		return nil, withContext("listing the sessions of a user", err)
	}
	return ids, nil
}

// loadUserRecord is loadRecord for a record that must be bound to user:
// errOtherUser when it is bound to another.
func (s *ServerStore) loadUserRecord(ctx context.Context, user, id string) (*userRecord, error) {
	rec, err := s.loadRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.user != user {
		return nil, errOtherUser
	}
	return rec, nil
}

// loadRecord loads the record of id into a new session and checks that it
// is live. A record that is gone or expired is ErrRecordNotFound; one that
// does not decode counts as gone.
func (s *ServerStore) loadRecord(ctx context.Context, id string) (*userRecord, error) {
	data, expires, err := s.Backend.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	tmp := &Session{opts: *s.Options}
	tmp.Options = &tmp.opts
	saved, err := decodeValues(s.Codecs, recordName(id), data, tmp, s.Options)
	if err != nil && !isDropped(err) {
		return nil, ErrRecordNotFound
	}
	// Judged as a request's load judges it (a Touch extends a record
	// without signing it anew).
	expires = s.liveUntil(tmp, saved, expires)
	if !s.now().Before(expires) {
		return nil, ErrRecordNotFound
	}
	return &userRecord{Session: tmp, saved: saved, expires: expires}, nil
}

// userRecord is a record as loadRecord reads it.
type userRecord struct {
	*Session
	saved   int64
	expires time.Time
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
