package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Saving a server-side session: the record, the user index, the token.

// save implements Save; see Backend for the atomicity it relies on.
func (s *ServerStore) save(ctx *fasthttp.RequestCtx, session *Session) error {
	opts := session.options(s.Options)
	if err := s.ready(); err != nil {
		return err
	}
	if s.TokenOnly {
		// No cookie is written: only the name (which signs the token) and
		// the lifetime must be valid.
		if !validName(session.name) {
			return errInvalidName(session.name)
		}
		if opts.MaxAge > maxCookieAge {
			return checkCookie(session.name, &Options{MaxAge: opts.MaxAge})
		}
	} else if err := checkCookie(session.name, opts); err != nil {
		return err
	}
	st := &session.server
	if session.ID != st.loadedID {
		return fmt.Errorf("%w: the session's ID was changed by hand (%q); call RenewID to give it a new one",
			ErrInvalidOptions, session.ID)
	}
	if len(session.user) > maxUserKey {
		return fmt.Errorf("%w: a user key of %d bytes (at most %d)", ErrInvalidOptions, len(session.user), maxUserKey)
	}
	now := s.now()
	if opts.MaxAge < 0 {
		return s.logout(ctx, session, opts, now)
	}
	if st.loadErr != nil && st.loadedID == "" {
		if err := s.clearUnreadable(ctx, st.cookieID, st.loadErr); err != nil {
			return err
		}
		st.loadErr = nil
	}
	if st.revoked {
		if st.quiet {
			if plain, err := serializeValues(nil, session, opts, s.Options); err == nil && session.unchanged(plain, opts) {
				return nil // it only read the session: nothing to write, and no error
			}
		}
		return ErrSessionRevoked
	}
	if st.loadedID != "" && !now.Before(st.expires) {
		// Another request may have refreshed the record since this one
		// loaded it: then it lives, and so does the session.
		switch rec, err := s.loadRecord(ctx, st.loadedID); {
		case err == nil:
			st.expires = rec.expires
		case !errors.Is(err, ErrRecordNotFound):
			return wrapError("loading record", err)
		}
		if !now.Before(st.expires) {
			// The record expired while the request ran: the session is
			// over. Its values are not carried to a new ID (that would let
			// a request that loaded it just before its deadline outlive the
			// idle and absolute timeouts, or a logout that happened
			// meanwhile); what is saved is a new, empty session under a
			// new ID.
			if err := s.Backend.Delete(ctx, st.loadedID); err != nil && !errors.Is(err, ErrRecordNotFound) {
				return wrapError("deleting the expired record", err)
			}
			s.indexRemove(ctx, st.indexedUser, st.loadedID)
			session.afresh(s.Options)
			opts = session.Options
			session.server = serverState{tokenFrom: st.tokenFrom}
			session.ID = ""
		}
	}
	if session.user != "" && session.user != st.indexedUser {
		// Bound to a user by this request (a login): what a "your
		// devices" page shows of it.
		ua := ctx.UserAgent()
		session.agent = string(ua[:min(len(ua), maxUserAgent)])
	}
	markCreated(session, opts, now)
	updating := st.loadedID != "" && !st.renew
	renewing, prevFrom := st.loadedID != "" && st.renew, session.from
	if renewing {
		// The renewed record names the ID it was renewed from, so that its
		// logout removes that ID's forwarding marker.
		session.from = st.loadedID
	}
	plain := getBuffer()
	defer putBuffer(plain)
	var err error
	if plain.B, err = serializeValues(plain.B[:0], session, opts, s.Options); err != nil {
		return err
	}
	// s.ttl(opts) is BrowserSessionTTL for a browser-session cookie, else
	// the MaxAge that the window counts anyway.
	due := session.refreshDue(s.RefreshAfter, slidingWindow(opts, s.ttl(opts), codecMaxAge(s.Codecs)), now)
	if updating && session.unchanged(plain.B, opts) {
		// Write only what changed: an unchanged session costs nothing but
		// a refresh of its expiry now and then.
		if !due {
			return nil
		}
		return s.refresh(ctx, session, opts, s.recordTTL(session, opts, now), now, plain.B)
	}
	ttl := s.recordTTL(session, opts, now)
	// An update under the same ID and Options sends no new token until its
	// refresh is due (by the token's age, see refreshDue): the client's
	// token names the same ID and stays young enough, as for an unchanged
	// session.
	keepToken := updating && session.snap.ok && !session.snap.rewrite && session.snap.opts == *opts && !due
	signed := now.Unix()
	if keepToken {
		signed = session.snap.written
	}
	var id string
	switch {
	case renewing:
		id, err = s.renew(ctx, session, opts, ttl, now, plain.B)
	case updating:
		id = st.loadedID
		err = s.update(ctx, session, opts, ttl, plain.B)
	default:
		id, err = s.create(ctx, session, opts, ttl, plain.B)
	}
	if err != nil {
		if renewing {
			session.from = prevFrom
		}
		return err
	}
	rname := st.recordName // the name of the record under id, if it is the one loaded
	if !updating {
		rname = ""
	}
	session.ID = id
	session.server = serverState{cookieID: id, loadedID: id, expires: now.Add(ttl), indexedUser: session.user, tokenFrom: st.tokenFrom, recordName: rname}
	session.remember(plain.B, opts, signed)
	session.snap.recordSaved = now.Unix()
	if keepToken {
		return nil
	}
	return s.setToken(ctx, session, opts, now)
}

// refresh extends the life of an unchanged session's record, with
// Toucher.Touch when the backend has it and the record's signature is
// young enough (less than half the codecs' MaxAge, so that a record touched
// for months is still rewritten in time), else by rewriting it, and re-signs
// its token. A session whose record is gone (a logout, a renewal by another
// request) is not revived, and since this request only read it, that is no
// error: nothing is written or sent, and a later change of it in this
// request fails with ErrSessionRevoked.
func (s *ServerStore) refresh(ctx *fasthttp.RequestCtx, session *Session, opts *Options, ttl time.Duration, now time.Time, plain []byte) error {
	id := session.server.loadedID
	touched := false
	limit := codecMaxAge(s.Codecs)
	if t, ok := s.Backend.(Toucher); ok && (limit == 0 || now.Sub(time.Unix(session.snap.recordSaved, 0)) < limit/2) {
		switch err := t.Touch(ctx, id, ttl); {
		case err == nil:
			touched = true
		case errors.Is(err, ErrRecordNotFound):
			s.revokeQuietly(session)
			return nil
		case !errors.Is(err, errors.ErrUnsupported):
			return wrapError("refreshing record", err)
		}
	}
	if !touched {
		// A rewrite writes the values this request loaded: not over those
		// another request saved since (whose write refreshed the record
		// anyway). The backend has no compare-and-swap: this narrows the
		// race to the time between this Load and the Update.
		switch cur, _, err := s.Backend.Load(ctx, id); {
		case errors.Is(err, ErrRecordNotFound):
			s.revokeQuietly(session)
			return nil
		case err != nil:
			return wrapError("refreshing record", err)
		case !bytes.Equal(cur, session.server.loaded):
			return nil
		}
		switch err := s.update(ctx, session, opts, ttl, plain); {
		case errors.Is(err, ErrSessionRevoked):
			session.server.quiet = true
			return nil
		case err != nil:
			return err
		}
		session.snap.recordSaved = now.Unix()
	}
	session.server.expires = now.Add(ttl)
	session.snap.written = now.Unix()
	return s.setToken(ctx, session, opts, now)
}

// revokeQuietly marks session revoked by another request while this one
// only read it: a Save of it unchanged is then no error (see save).
func (s *ServerStore) revokeQuietly(session *Session) {
	s.revoke(session)
	session.server.quiet = true
}

// clearUnreadable makes way for a new session in place of the record id,
// which the cookie named and the backend failed to read at load time with
// loadErr. The record may live on: a new session in its place would lose
// it for its user and leave it out of reach of their logout (a stolen copy
// of the cookie would outlive it). So it is read again: when it reads now
// (the failure was passing), the Save fails and the cookie is kept, for
// the next request to load it; when it is gone by now, a new session takes
// its place; when it still fails (a record that cannot be read for good),
// it is deleted, as a logout would, and only then does a new session take
// its place; when it cannot be deleted either, the Save fails and the
// cookie is kept.
func (s *ServerStore) clearUnreadable(ctx *fasthttp.RequestCtx, id string, loadErr error) error {
	// When the backend went away (a timeout, a lost connection), the record
	// is out of reach, not unreadable: no more calls into the outage.
	if !unreachable(loadErr) {
		switch _, _, err := s.Backend.Load(ctx, id); {
		case errors.Is(err, ErrRecordNotFound) || errors.Is(err, ErrUnsafeFolder):
			return nil
		case err != nil:
			if _, err := s.destroy(ctx, id, "", ""); err == nil {
				return nil
			}
		}
	}
	return wrapError("keeping the session whose record could not be loaded", loadErr)
}

// unreachable reports whether err says that the backend could not be
// reached or did not answer in time, rather than what a record holds.
func unreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne)
}

// setToken sends the signed ID of session: its cookie, or its TokenHeader
// (see sendToken).
func (s *ServerStore) setToken(ctx *fasthttp.RequestCtx, session *Session, opts *Options, now time.Time) error {
	b := getBuffer()
	defer putBuffer(b)
	var err error
	if b.B, err = encodeFirst(s.Codecs, b.B[:0], session.name, session.ID); err != nil {
		return wrapError("encoding the ID", err)
	}
	s.sendToken(ctx, session.name, session.server.tokenFrom, b.B, opts, now)
	return nil
}

// update writes a loaded session back under its ID, only while its record
// lives.
func (s *ServerStore) update(ctx context.Context, session *Session, opts *Options, ttl time.Duration, plain []byte) error {
	id := session.server.loadedID
	b := getBuffer()
	defer putBuffer(b)
	var err error
	name := session.server.recordName
	if name == "" {
		name = recordName(id)
	}
	if b.B, err = sealValues(s.Codecs, b.B[:0], name, plain, session, opts, s.Options); err != nil {
		return err
	}
	if session.user != session.server.indexedUser {
		if err := s.indexAdd(ctx, session.user, id); err != nil {
			return err
		}
	}
	err = s.Backend.Update(ctx, id, b.B, ttl)
	if errors.Is(err, ErrRecordNotFound) {
		// Destroyed or renewed by another request since this one loaded
		// it: never bring it back.
		s.revoke(session)
		return ErrSessionRevoked
	}
	if err != nil {
		return wrapError("saving record", err)
	}
	return nil
}

// create stores the session under a new ID and returns the ID.
func (s *ServerStore) create(ctx context.Context, session *Session, opts *Options, ttl time.Duration, plain []byte) (string, error) {
	b := getBuffer()
	defer putBuffer(b)
	for range 3 {
		id, err := newID(s.Rand)
		if err != nil {
			return "", err
		}
		if b.B, err = sealValues(s.Codecs, b.B[:0], recordName(id), plain, session, opts, s.Options); err != nil {
			return "", err
		}
		// The index first: a live record bound to a user is always in the
		// user's index (see UserIndex).
		if err := s.indexAdd(ctx, session.user, id); err != nil {
			return "", err
		}
		err = s.Backend.Create(ctx, id, b.B, ttl)
		if err == nil {
			return id, nil
		}
		s.indexRemove(ctx, session.user, id)
		if !errors.Is(err, ErrRecordExists) {
			return "", wrapError("saving record", err)
		}
	}
	return "", fmt.Errorf("saving record: %w: three new IDs were taken (is Rand random?)", ErrRecordExists)
}

// revoke marks session as revoked: it keeps its values for the request to
// read, but no Save will ever write them again, under its ID or another.
// A logout of it still deletes what its cookie names.
func (s *ServerStore) revoke(session *Session) {
	session.server = serverState{cookieID: session.server.cookieID, tokenFrom: session.server.tokenFrom, revoked: true}
	session.ID = ""
}

// deleteQuietly removes a record this request has just written and must not
// keep, and its entry in the user index.
func (s *ServerStore) deleteQuietly(ctx context.Context, id, user string) error {
	if err := s.Backend.Delete(ctx, id); err != nil && !errors.Is(err, ErrRecordNotFound) {
		return wrapError("deleting record", err)
	}
	s.indexRemove(ctx, user, id)
	return nil
}

// maxUserKey bounds the user key of a session (SetUser), and maxUserAgent
// the User-Agent kept with a session bound to a user.
const (
	maxUserKey   = 1024
	maxUserAgent = 256
)

// indexAdd adds id to the set of user in the backend's user index, if the
// backend has one and user is not "".
func (s *ServerStore) indexAdd(ctx context.Context, user, id string) error {
	if ui, ok := s.Backend.(UserIndex); ok && user != "" {
		if err := ui.AddUserID(ctx, user, id); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			return wrapError("adding the session to its user's index", err)
		}
	}
	return nil
}

// indexRemove removes id from the set of user once this store deleted its
// record (never on a mere absence: the record may be about to be created;
// see UserIndex). A failure leaves an entry that names a record that is
// gone, which UserSessions and RevokeUser skip and the backend's cleanup
// removes.
func (s *ServerStore) indexRemove(ctx context.Context, user, id string) {
	if ui, ok := s.Backend.(UserIndex); ok && user != "" {
		_ = ui.RemoveUserID(ctx, user, id)
	}
}
