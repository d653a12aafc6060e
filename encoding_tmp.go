package sessions

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
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
	}
	return fmt.Errorf("%w: %w", ErrCookieInvalid, err)
}

func decodeAny(codecs []securecookie.Codec, name string, value []byte, dst any) (int64, error) {
	if err := classify(securecookie.DecodeMulti(name, string(value), dst, codecs...)); err != nil {
		return 0, err
	}
	raw, _ := base64.URLEncoding.DecodeString(string(value))
	ts, _ := strconv.ParseInt(string(raw[:bytes.IndexByte(raw, '|')]), 10, 64)
	return ts, nil
}

func encodeFirst(codecs []securecookie.Codec, dst []byte, name string, v any) ([]byte, error) {
	s, err := securecookie.EncodeMulti(name, v, codecs...)
	if err != nil {
		return dst, classify(err)
	}
	return append(dst, s...), nil
}

func setCodecsMaxLength(codecs []securecookie.Codec, l int) {
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxLength(l)
		}
	}
}
