package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/web"
)

type signup struct {
	Email string `json:"email"`
	Age   int    `json:"age"`
}

func decode(t *testing.T, contentType, body string) (signup, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var s signup
	err := web.Decode(r, &s)
	return s, err
}

func TestDecodeAcceptsOneWellFormedObject(t *testing.T) {
	s, err := decode(t, "application/json; charset=utf-8", `{"email":"a@b.io","age":3}`+"\n")
	require.NoError(t, err)
	assert.Equal(t, signup{Email: "a@b.io", Age: 3}, s)
}

func TestDecodeRefusesBadBodiesWithClientErrors(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		kind                    apperr.Kind
		field                   string
	}{
		{"malformed", "", `{"email":`, apperr.BadRequest, ""},
		{"not json at all", "", `email=a`, apperr.BadRequest, ""},
		{"empty", "", ``, apperr.BadRequest, ""},
		{"trailing data", "", `{"email":"a"} {"email":"b"}`, apperr.BadRequest, ""},
		{"array instead of object", "", `[1,2]`, apperr.BadRequest, ""},
		{"wrong type", "", `{"age":"three"}`, apperr.Invalid, "age"},
		{"unknown field", "", `{"email":"a","admin":true}`, apperr.Invalid, "admin"},
		{"form content type", "application/x-www-form-urlencoded", `{}`, apperr.Unsupported, ""},
		{"too large", "", `{"email":"` + strings.Repeat("a", 2<<20) + `"}`, apperr.TooLarge, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.contentType, tc.body)
			require.Error(t, err)
			assert.Equal(t, tc.kind, apperr.KindOf(err), err.Error())
			assert.Less(t, web.StatusOf(err), 500)
			if tc.field != "" {
				e, _ := apperr.As(err)
				assert.Contains(t, e.Fields, tc.field)
			}
		})
	}
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) web.Problem {
	t.Helper()
	assert.Equal(t, web.ProblemContentType, rec.Header().Get("Content-Type"))
	var p web.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	return p
}

func TestErrorHidesInternalCausesFromClients(t *testing.T) {
	rec := httptest.NewRecorder()
	web.Error(rec, httptest.NewRequest(http.MethodGet, "/v1/x", nil),
		errors.New(`pq: relation "users" password=hunter2`))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	p := problemOf(t, rec)
	assert.NotContains(t, rec.Body.String(), "hunter2")
	assert.Equal(t, "/v1/x", p.Instance)
	assert.Equal(t, 500, p.Status)
}

func TestErrorShowsClientErrorsWithFields(t *testing.T) {
	rec := httptest.NewRecorder()
	web.Error(rec, httptest.NewRequest(http.MethodPost, "/v1/auth/register", nil),
		apperr.Validation("the registration is not valid", map[string]string{"email": "must be an email address"}))
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	p := problemOf(t, rec)
	assert.Equal(t, "the registration is not valid", p.Detail)
	assert.Equal(t, "must be an email address", p.Errors["email"])
}

func TestRouterAnswersUnknownRoutesWithProblems(t *testing.T) {
	var rt web.Router
	rt.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		web.JSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})

	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/things/7", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"id":"7"}`, rec.Body.String())

	rec = httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/nothing", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, 404, problemOf(t, rec).Status)

	rec = httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/v1/things/7", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Contains(t, rec.Header().Get("Allow"), "GET")
	assert.Equal(t, 405, problemOf(t, rec).Status)
}
