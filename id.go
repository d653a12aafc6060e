package sessions

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
)

// IDLength is the length of the session IDs of server-side stores: 32
// random bytes in unpadded base32, as gorilla/sessions makes them.
const IDLength = 52

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a new session ID made of 32 bytes read from r, which should
// be crypto/rand.Reader (nil means crypto/rand.Reader).
func NewID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("sessions: generating a session ID: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// ValidID reports whether id has the form of a session ID: exactly 52
// characters of A–Z and 2–7. Server-side stores check it before an ID
// touches storage, so that no ID can name a path outside the store's folder
// or a key outside its prefix.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
