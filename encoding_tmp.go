package sessions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gorilla/securecookie"
)

// TEMPORARY until codec.go lands.

func codecsFromPairs(keyPairs [][]byte) []securecookie.Codec {
	return securecookie.CodecsFromPairs(keyPairs...)
}

func setCodecsMaxAge(codecs []securecookie.Codec, age int) {
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(age)
		}
	}
}

func classify(err error) error {
	var se securecookie.Error
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "expired timestamp"):
		return fmt.Errorf("%w: %w", ErrCookieExpired, err)
	case strings.Contains(err.Error(), "too long"):
		return fmt.Errorf("%w: %w", ErrCookieTooLong, err)
	case strings.Contains(err.Error(), "hash key is not set") || strings.Contains(err.Error(), "aes"):
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	case errors.As(err, &se) && se.IsUsage():
		return fmt.Errorf("%w: %w", ErrSerialize, err)
	case errors.As(err, &se) && se.IsInternal():
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return fmt.Errorf("%w: %w", ErrCookieInvalid, err)
}

func decodeCookie(codecs []securecookie.Codec, name string, value []byte, dst any) error {
	return classify(securecookie.DecodeMulti(name, string(value), dst, codecs...))
}

func encodeCookie(codecs []securecookie.Codec, dst []byte, name string, v any) ([]byte, error) {
	s, err := securecookie.EncodeMulti(name, v, codecs...)
	if err != nil {
		return dst, classify(err)
	}
	return append(dst, s...), nil
}
