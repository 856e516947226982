package http

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/credential"
)

// The Sources API, /api/v1/sources: HTTP sources and their tokens. Every
// route needs Manage Collectors. A token is shown once, in the answer of
// the creation or rotation that drew it, with the source's receiver URL.

// sourceRequest is the body of POST and PUT. The answer's read-only
// fields may be sent back (a GET edited and PUT back); they are ignored.
type sourceRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	HostName    string `json:"hostName"`

	ID             json.RawMessage `json:"id"`
	Received       json.RawMessage `json:"received"`
	LastReceivedAt json.RawMessage `json:"lastReceivedAt"`
	CreatedAt      json.RawMessage `json:"createdAt"`
	ModifiedAt     json.RawMessage `json:"modifiedAt"`
}

// apply sets src's editable fields; surrounding white space in a name is
// never meant, and would make two names look alike.
func (in *sourceRequest) apply(src *hookline.Source) {
	src.Name, src.Description, src.Category, src.HostName = strings.TrimSpace(in.Name), in.Description, in.Category, in.HostName
}

func sourceJSON(src *hookline.Source) map[string]any {
	return map[string]any{
		"id": src.ID, "name": src.Name, "description": src.Description, "category": src.Category,
		"hostName": src.HostName, "received": src.Received, "lastReceivedAt": timeOrNil(src.LastReceivedAt),
		"createdAt": timeOrNil(src.CreatedAt), "modifiedAt": timeOrNil(src.ModifiedAt),
	}
}

// newSourceToken draws an ingest token: 256 random bits, base64url, behind
// a prefix that secret scanners can look for.
func newSourceToken() string { return "hls_" + credential.NewSecret() }

// withToken is a source's answer with its new token and receiver URL.
func (s *Server) withToken(r *http.Request, src *hookline.Source, token string) map[string]any {
	out := sourceJSON(src)
	out["token"] = token
	out["url"] = s.baseURL(r) + receiverPrefix + token
	return out
}

// baseURL is where callers reach this server: PublicURL when set, else
// the scheme and host the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r)
	if err != nil {
		return err
	}
	list, next, err := s.Logs.Sources(r.Context(), opt)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(list))
	for i, src := range list {
		data[i] = sourceJSON(src)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	var in sourceRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	token := newSourceToken()
	src := &hookline.Source{TokenHash: hookline.SourceTokenHash(token)}
	in.apply(src)
	if err := s.Logs.CreateSource(r.Context(), src); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.withToken(r, src, token))
	return nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	src, err := s.Logs.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceJSON(src))
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	var in sourceRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	src, err := s.Logs.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	in.apply(src)
	if err := s.Logs.UpdateSource(r.Context(), src); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceJSON(src))
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := s.Logs.DeleteSource(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateSourceToken draws a new token for the source; the old one stops
// working at once.
func (s *Server) rotateSourceToken(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	token := newSourceToken()
	src, err := s.Logs.RotateSourceToken(r.Context(), r.PathValue("id"), hookline.SourceTokenHash(token))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.withToken(r, src, token))
	return nil
}
