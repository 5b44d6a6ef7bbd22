package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// Limits on the request a guest passes to http.request. Past them the
// call traps, like any other argument that breaks the ABI; the body is
// bounded by the plugin's output limit.
const (
	maxMethod      = 64
	maxURL         = 16 << 10
	maxHeaders     = 256
	maxHeaderBytes = 64 << 10
)

// httpRequest is a request lifted from guest memory.
type httpRequest struct {
	method, url string
	headers     []abi.Pair
	body        []byte
}

// hostRequest is http.request: it lifts the request (every pointer, string
// and size checked: a bad one traps the call), makes it through the
// plugin's network grant (capabilities.Set.HTTPClient), and lowers the
// response, or an error result when the request is refused or fails.
func (r *Runtime) hostRequest(ctx context.Context, c engine.Caller, stack []uint64) error {
	st, err := state(ctx, abi.FuncRequest)
	if err != nil {
		return err
	}
	ret := uint32(stack[8])
	mem := c.Memory()
	if err := abi.CheckReturnArea(mem, ret, abi.ResponseResultSize); err != nil {
		return refuse(st, abi.FuncRequest, err)
	}
	p := st.inst.p
	// The sizes asked for, bounded by the limits past which lifting them
	// fails; the headers' strings are charged once lifted, with the
	// response.
	asked := min(uint64(uint32(stack[1])), maxMethod) + min(uint64(uint32(stack[3])), maxURL) +
		min(uint64(uint32(stack[5])), maxHeaders)*abi.TupleSize + min(uint64(uint32(stack[7])), p.limits.output)
	if err := st.inst.charge(ctx, meter.HostFuel(asked)); err != nil {
		return err
	}
	req, err := liftRequest(mem, stack, p.limits.output)
	if err != nil {
		return refuse(st, abi.FuncRequest, err)
	}
	bctx, cancel := st.bounded(ctx)
	defer cancel()
	resp, reqErr := p.doHTTP(bctx, st, req)
	if bctx.Err() != nil {
		// The call ran out of time (or was canceled) during the request:
		// report that, not a failure to lower the result.
		return fmt.Errorf("%w: %w", engine.ErrInterrupted, context.Cause(bctx))
	}
	got := uint64(0) // the headers of the request, the response
	for _, h := range req.headers {
		got += uint64(len(h.Key) + len(h.Value))
	}
	if reqErr != nil {
		got += uint64(len(reqErr.Error()))
	} else {
		got += uint64(len(resp.Body))
		for _, h := range resp.Headers {
			got += abi.TupleSize + uint64(len(h.Key)+len(h.Value))
		}
	}
	if err := st.inst.charge(ctx, bytesFuel(got)); err != nil {
		return err
	}
	if reqErr != nil {
		err = abi.LowerResponseError(ctx, mem, st.inst, ret, reqErr.Error())
	} else {
		err = abi.LowerResponse(ctx, mem, st.inst, ret, resp)
	}
	switch {
	case errors.Is(err, engine.ErrInterrupted):
		return err // a timeout inside cabi_realloc, not a broken contract
	case err != nil:
		return refuse(st, abi.FuncRequest, err)
	}
	return nil
}

// liftRequest copies the request's arguments out of guest memory.
func liftRequest(mem abi.Memory, stack []uint64, maxBody uint64) (httpRequest, error) {
	var req httpRequest
	var err error
	if req.method, err = abi.String(mem, "method", uint32(stack[0]), uint32(stack[1]), maxMethod); err != nil {
		return req, err
	}
	if req.url, err = abi.String(mem, "url", uint32(stack[2]), uint32(stack[3]), maxURL); err != nil {
		return req, err
	}
	if req.headers, err = abi.Pairs(mem, "headers", uint32(stack[4]), uint32(stack[5]), maxHeaders, maxHeaderBytes); err != nil {
		return req, err
	}
	if req.body, err = abi.Bytes(mem, "body", uint32(stack[6]), uint32(stack[7]), maxBody); err != nil {
		return req, err
	}
	return req, nil
}

// doHTTP makes req for the call st and returns the response to lower.
// Its error is the message the guest gets.
func (p *Plugin) doHTTP(ctx context.Context, st *callState, req httpRequest) (abi.Response, error) {
	hreq, err := newHTTPRequest(ctx, req)
	if err != nil {
		return abi.Response{}, err
	}
	client := p.caps.HTTPClient(func(resource, rule string, allowed bool) {
		ev := capabilities.Event{Kind: capabilities.KindNet, Resource: resource, Op: "request", Rule: rule}
		if !allowed {
			p.deny(st, ev)
			return
		}
		ev.Allowed, ev.Function = true, st.fn
		p.audit(ev)
	})
	defer client.CloseIdleConnections()
	resp, err := client.Do(hreq)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var denied *capabilities.NetDeniedError
		switch {
		case errors.As(err, &denied):
			return abi.Response{}, denied
		case ctx.Err() != nil:
			return abi.Response{}, fmt.Errorf("request to %q canceled: %w", hreq.URL.Redacted(), context.Cause(ctx))
		}
		return abi.Response{}, fmt.Errorf("request failed: %w", err)
	}
	defer resp.Body.Close()
	limit := p.limits.output
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(min(limit, 1<<62))+1))
	if err != nil {
		return abi.Response{}, fmt.Errorf("request to %q: read response body: %w", resp.Request.URL.Redacted(), err)
	}
	if uint64(len(body)) > limit {
		return abi.Response{}, fmt.Errorf("request to %q: response body is over the plugin's output limit of %d bytes", resp.Request.URL.Redacted(), limit)
	}
	return abi.Response{Status: uint16(resp.StatusCode), Headers: responseHeaders(resp.Header), Body: body}, nil
}

// newHTTPRequest checks what the guest asked for and builds the request.
func newHTTPRequest(ctx context.Context, req httpRequest) (*http.Request, error) {
	if !isToken(req.method) {
		return nil, fmt.Errorf("invalid method %q: want a token like GET or POST", req.method)
	}
	if strings.EqualFold(req.method, http.MethodConnect) {
		// A CONNECT asks a proxy for a tunnel to another destination,
		// which no net rule would then see.
		return nil, fmt.Errorf("method %q is not allowed: it opens a tunnel to a destination the net rules do not check", req.method)
	}
	var body io.Reader
	if len(req.body) > 0 {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL %q: %w", req.url, err)
	}
	for i, h := range req.headers {
		switch {
		case !isToken(h.Key):
			return nil, fmt.Errorf("header %d: invalid name %q", i, h.Key)
		case !validHeaderValue(h.Value):
			return nil, fmt.Errorf("header %q: invalid value: control characters other than tab are not allowed", h.Key)
		case strings.EqualFold(h.Key, "Host"):
			return nil, fmt.Errorf("header %q is not allowed: the host comes from the URL", h.Key)
		}
		hreq.Header.Add(h.Key, h.Value)
	}
	return hreq, nil
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2):
// a method or a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v has no control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// responseHeaders flattens response headers for the guest: names in lower
// case, sorted, each value its own pair in the order received. Bytes that
// are not UTF-8 (obs-text) become U+FFFD, since ABI strings are UTF-8.
func responseHeaders(h http.Header) []abi.Pair {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	var out []abi.Pair
	for _, k := range keys {
		name := strings.ToLower(k)
		for _, v := range h[k] {
			if !utf8.ValidString(v) {
				v = strings.ToValidUTF8(v, "\uFFFD")
			}
			out = append(out, abi.Pair{Key: name, Value: v})
		}
	}
	return out
}
