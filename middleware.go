package sessions

import (
	"errors"
	"log"

	"github.com/valyala/fasthttp"
)

// Middleware returns a handler that runs next and then, before fasthttp
// writes the response, saves every session of the request's Registry, as
// sessions.Save(ctx) does: handlers only change their sessions, and need not
// save them. A session that is unchanged and needs no refresh of its expiry
// writes nothing (see Session.Save).
//
// A Save that fails with ErrSessionRevoked is not an error here: the request
// raced a logout or a login of the same browser, which set the cookie the
// browser now holds, and nothing was written or sent. Other errors go to
// onError, with the ErrSessionRevoked ones left out of them; a nil onError
// logs the error with the standard logger and answers 500 Internal Server
// Error, replacing the response. A Save after the response was written
// never reaches the client: that is why this runs right after next.
//
// The returned handler is safe for concurrent use, as fasthttp calls it.
func Middleware(next fasthttp.RequestHandler, onError func(ctx *fasthttp.RequestCtx, err error)) fasthttp.RequestHandler {
	if onError == nil {
		onError = defaultSaveError
	}
	return func(ctx *fasthttp.RequestCtx) {
		next(ctx)
		if err := withoutRevoked(Save(ctx)); err != nil {
			onError(ctx, err)
		}
	}
}

func defaultSaveError(ctx *fasthttp.RequestCtx, err error) {
	log.Printf("%s %s: %v", ctx.Method(), ctx.Path(), err)
	ctx.Error(fasthttp.StatusMessage(fasthttp.StatusInternalServerError), fasthttp.StatusInternalServerError)
}

// withoutRevoked returns err without the errors of sessions that were
// revoked, or nil when nothing else is left.
func withoutRevoked(err error) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if errors.Is(err, ErrSessionRevoked) {
			return nil
		}
		return err
	}
	var rest []error
	for _, e := range joined.Unwrap() {
		if e = withoutRevoked(e); e != nil {
			rest = append(rest, e)
		}
	}
	return errors.Join(rest...)
}
