package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ReplyError is an error reply of a Redis server ("-ERR ...", "-MOVED ...").
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

// Do sends one command to the Redis server or Sentinel at addr over a new
// connection, without a Redis client, and returns its reply: a string for
// a simple or bulk string, nil for a nil bulk string, an int64, a []any for
// an array, or a ReplyError. Each call is bounded by a few seconds, so it
// suits the polling loops of the helpers (and of tests) that wait for a
// process to reach a state.
func Do(addr string, args ...string) (any, error) {
	replies, err := doAll(addr, 5*time.Second, args)
	if err != nil {
		return nil, err
	}
	return replies[0], nil
}

// doAll sends cmds over one new connection to addr, in one pipeline, and
// returns their replies, all within timeout.
func doAll(addr string, timeout time.Duration, cmds ...[]string) ([]any, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	var b strings.Builder
	for _, args := range cmds {
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	replies := make([]any, len(cmds))
	for i := range replies {
		if replies[i], err = readReply(r); err != nil {
			return nil, err
		}
	}
	return replies, nil
}

// readReply reads one RESP2 reply.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("redistest: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return ReplyError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return a, nil
	}
	return nil, fmt.Errorf("redistest: unexpected reply %q", line)
}

// DoString is Do for a command whose reply is a string (simple or bulk);
// an error reply or any other reply is returned as an error.
func DoString(addr string, args ...string) (string, error) {
	r, err := Do(addr, args...)
	if err != nil {
		return "", err
	}
	switch v := r.(type) {
	case string:
		return v, nil
	case ReplyError:
		return "", v
	}
	return "", fmt.Errorf("redistest: %s: reply %v is not a string", args[0], r)
}

// Info returns the "field:value" lines of the INFO section of the server
// at addr as a map.
func Info(addr, section string) (map[string]string, error) {
	s, err := DoString(addr, "INFO", section)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m, nil
}

// pairs turns a flat array reply [k1 v1 k2 v2 ...] into a map.
func pairs(r any) map[string]string {
	a, _ := r.([]any)
	m := map[string]string{}
	for i := 0; i+1 < len(a); i += 2 {
		k, _ := a[i].(string)
		v, _ := a[i+1].(string)
		m[k] = v
	}
	return m
}
