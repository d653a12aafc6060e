module github.com/fasthttp-sessions/sessions

go 1.25.0

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/valyala/fasthttp v1.74.0
	golang.org/x/sys v0.47.0
)

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
)
