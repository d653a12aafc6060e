package sessions

import (
	"github.com/gorilla/securecookie"
)

// droppedValuesError is a placeholder until the codec reports values it
// dropped (wip/compact defines the real one).
type droppedValuesError struct{ err error }

func (e *droppedValuesError) Error() string { return e.err.Error() }
func (e *droppedValuesError) Unwrap() error { return e.err }

// codecsFromPairs is CodecsFromPairs until wip/compact unexports it.
func codecsFromPairs(keyPairs ...[]byte) []securecookie.Codec { return CodecsFromPairs(keyPairs...) }
