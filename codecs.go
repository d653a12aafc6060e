package sessions

import (
	"time"

	"github.com/gorilla/securecookie"
)

// The stores hold []securecookie.Codec, as gorilla/sessions does, so that a
// user may put any codec there; these helpers configure the codecs they
// know: *Codec and *securecookie.SecureCookie.

func setCodecsMaxAge(codecs []securecookie.Codec, age int) {
	for _, c := range codecs {
		switch c := c.(type) {
		case *Codec:
			c.MaxAge(age)
		case *securecookie.SecureCookie:
			c.MaxAge(age)
		}
	}
}

func setCodecsMaxLength(codecs []securecookie.Codec, l int) {
	for _, c := range codecs {
		switch c := c.(type) {
		case *Codec:
			c.MaxLength(l)
		case *securecookie.SecureCookie:
			c.MaxLength(l)
		}
	}
}

// setCodecsClock makes the codecs date and check values by now, so that a
// store's injected clock drives its whole expiry.
func setCodecsClock(codecs []securecookie.Codec, now func() time.Time) {
	for _, c := range codecs {
		if c, ok := c.(*Codec); ok {
			c.SetClock(now)
		}
	}
}
