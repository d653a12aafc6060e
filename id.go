package sessions

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"io"
	"strings"
)

// idLength is the length of the session IDs of server-side stores: 32
// random bytes in unpadded base32, as gorilla/sessions makes them.
const idLength = 52

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a new session ID made of 32 bytes read from r (nil means
// crypto/rand.Reader).
func newID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", wrapError("generating a session ID", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// validID reports whether id has the form of a session ID: exactly 52
// characters of A–Z and 2–7. ServerStore checks it before an ID touches a
// backend, so that no ID can name a path outside a store's folder or a key
// outside its prefix.
func validID(id string) bool {
	if len(id) != idLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// markerID is the ID under which a renewal of id leaves its forwarding
// marker (see revoke.go): another valid ID, derived from id so that a
// logout holding only id finds it. It is never put in a cookie.
func markerID(id string) string {
	sum := sha256.Sum256([]byte("sessions: forwarding marker of " + id))
	return idEncoding.EncodeToString(sum[:])
}

// recordName is the name under which the record of id is signed: it binds
// the record to its ID. It is not an HTTP token ('/'), so no cookie value
// can pass for a record, nor a record for a cookie.
func recordName(id string) string { return "session/" + id }

// markerName is the name under which the forwarding marker of id is
// signed.
func markerName(id string) string { return "forward/" + id }

// handleOf is the handle of the session id (see Session.Handle): 128 bits
// of a SHA-256 of the ID, in lower-case base32.
func handleOf(id string) string {
	sum := sha256.Sum256([]byte("sessions: handle of " + id))
	return strings.ToLower(idEncoding.EncodeToString(sum[:16]))
}
