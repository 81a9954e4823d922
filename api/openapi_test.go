package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// This file keeps docs/openapi.yaml and the router in step.
//
// The routes are read from the package's own source (every Handle and
// HandleFunc call outside client*.go and tests, whose pattern must be a
// string literal) and confirmed against the real router: NewHandler over a
// backend that implements every backend interface a registrar asks for must
// serve each of them under exactly that pattern. Then:
//
//   - every served route is documented (method and path, wildcards as
//     OpenAPI {params});
//   - every documented operation is served: the router matches a request
//     for it to exactly the documented pattern, not to the catch-all;
//   - the query parameters a handler reads (r.URL.Query(), and helpers such
//     as boolParam and listParam called with a literal name) are exactly
//     the documented ones, and the path values it reads are wildcards of
//     its pattern;
//   - the success statuses a handler writes literally (WriteJSON(w, 200,
//     ...), w.WriteHeader(http.StatusAccepted)) are the documented 2xx
//     responses, and an operation documents the error response exactly
//     when its handler can write one (reaches WriteError);
//   - every $ref resolves and every path template's parameters are
//     declared.

const (
	openAPIPath      = "../docs/openapi.yaml"
	errorResponseRef = "#/components/responses/Error"
)

// allBackends implements every backend interface of the package, so that
// NewHandler registers every area. Its methods are never called: the test
// only asks the router which pattern a request matches.
// TestOpenAPIBackendCoversRegistrars fails when a registrar asserts an
// interface that is not embedded here.
type allBackends struct {
	HostBackend
	InventoryBackend
	ServiceBackend
	BootstrapBackend
	OSDBackend
	OSDRemovalBackend
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true, "trace": true,
}

// --- the OpenAPI document ---

type oaParam struct {
	Ref      string `yaml:"$ref"`
	Name     string `yaml:"name"`
	In       string `yaml:"in"`
	Required bool   `yaml:"required"`
}

type oaOperation struct {
	OperationID string             `yaml:"operationId"`
	Parameters  []oaParam          `yaml:"parameters"`
	Responses   map[string]oaParam `yaml:"responses"` // only $ref is read
}

type oaOp struct {
	method, path string // "GET", "/hosts/{host}"
	op           oaOperation
	params       []oaParam // path-item and operation parameters, $refs resolved
}

func (o oaOp) pattern() string { return o.method + " " + o.path }

type openAPI struct {
	raw any // the whole document, for $ref resolution
	ops map[string]oaOp
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	data, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                          `yaml:"openapi"`
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Parameters map[string]oaParam `yaml:"parameters"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("%s: openapi %q, want 3.0.x", openAPIPath, doc.OpenAPI)
	}
	oa := &openAPI{ops: map[string]oaOp{}}
	if err := yaml.Unmarshal(data, &oa.raw); err != nil {
		t.Fatal(err)
	}
	resolve := func(where string, ps []oaParam) []oaParam {
		out := make([]oaParam, 0, len(ps))
		for _, p := range ps {
			if p.Ref != "" {
				name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
				rp, found := doc.Components.Parameters[name]
				if !ok || !found {
					t.Errorf("%s: unresolvable parameter %s", where, p.Ref)
					continue
				}
				p = rp
			}
			out = append(out, p)
		}
		return out
	}
	for path, item := range doc.Paths {
		var common []oaParam
		if n, ok := item["parameters"]; ok {
			if err := n.Decode(&common); err != nil {
				t.Errorf("paths %s parameters: %v", path, err)
			}
		}
		for key, n := range item {
			switch {
			case key == "parameters", key == "summary", key == "description":
				continue
			case !httpMethods[key]:
				t.Errorf("paths %s: unexpected key %q", path, key)
				continue
			}
			var op oaOperation
			if err := n.Decode(&op); err != nil {
				t.Errorf("paths %s %s: %v", path, key, err)
				continue
			}
			o := oaOp{method: strings.ToUpper(key), path: path, op: op}
			o.params = resolve(o.pattern(), append(append([]oaParam(nil), common...), op.Parameters...))
			oa.ops[o.pattern()] = o
		}
	}
	return oa
}

// pointer resolves a local JSON pointer ("#/components/schemas/Host").
func (oa *openAPI) pointer(ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := oa.raw
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[tok]; !ok {
			return false
		}
	}
	return true
}

// --- routes in the source ---

// srcRoute is one Handle/HandleFunc call of the package.
type srcRoute struct {
	pattern string // as registered, e.g. "GET /hosts/{host}"
	pos     string
	reads   *handlerReads
}

// handlerReads is what a handler's code reads and writes, as far as
// literals show it.
type handlerReads struct {
	query    map[string]bool
	pathVals map[string]bool
	statuses map[int]bool
	// failing: the handler can answer an API error (calls WriteError).
	failing bool
}

type srcIndex struct {
	fset  *token.FileSet
	files []*ast.File
	// funcs are the server-side functions and methods by name (client*.go
	// excluded: the client builds queries, it does not read them).
	funcs map[string][]*ast.FuncDecl
	// queryHelpers maps a function name to the index of its argument that
	// names the query parameter it reads (boolParam, listParam).
	queryHelpers map[string]int
}

func parseSource(t *testing.T) *srcIndex {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	ix := &srcIndex{fset: token.NewFileSet(), funcs: map[string][]*ast.FuncDecl{}, queryHelpers: map[string]int{}}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "client") {
			continue
		}
		f, err := parser.ParseFile(ix.fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		ix.files = append(ix.files, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				ix.funcs[fd.Name.Name] = append(ix.funcs[fd.Name.Name], fd)
			}
		}
	}
	if len(ix.files) == 0 {
		t.Fatal("no source files found; run the test from the api directory")
	}
	for name, fds := range ix.funcs {
		for _, fd := range fds {
			if i, ok := queryHelperArg(fd); ok {
				ix.queryHelpers[name] = i
			}
		}
	}
	return ix
}

// isQueryCall reports whether e is `<x>.Query()` (r.URL.Query()).
func isQueryCall(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	s, ok := c.Fun.(*ast.SelectorExpr)
	return ok && s.Sel.Name == "Query" && len(c.Args) == 0
}

// isQueryValues reports whether e is r.URL.Query() or a variable assigned
// from it (q := r.URL.Query()).
func isQueryValues(e ast.Expr) bool {
	if isQueryCall(e) {
		return true
	}
	id, ok := e.(*ast.Ident)
	if !ok || id.Obj == nil {
		return false
	}
	as, ok := id.Obj.Decl.(*ast.AssignStmt)
	if !ok || len(as.Lhs) != len(as.Rhs) {
		return false
	}
	for i, l := range as.Lhs {
		if li, ok := l.(*ast.Ident); ok && li.Name == id.Name {
			return isQueryCall(as.Rhs[i])
		}
	}
	return false
}

// queryKey returns the key expression of a query read in n:
// q.Get(k), q.Has(k), q[k]; nil when n is none.
func queryKey(n ast.Node) ast.Expr {
	switch x := n.(type) {
	case *ast.CallExpr:
		if s, ok := x.Fun.(*ast.SelectorExpr); ok && (s.Sel.Name == "Get" || s.Sel.Name == "Has") && len(x.Args) == 1 && isQueryValues(s.X) {
			return x.Args[0]
		}
		if s, ok := x.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "FormValue" && len(x.Args) == 1 {
			return x.Args[0]
		}
	case *ast.IndexExpr:
		if isQueryValues(x.X) {
			return x.Index
		}
	}
	return nil
}

// queryHelperArg reports whether fd reads the query parameter named by one
// of its own parameters, and which.
func queryHelperArg(fd *ast.FuncDecl) (int, bool) {
	idx := map[string]int{}
	i := 0
	for _, f := range fd.Type.Params.List {
		for _, n := range f.Names {
			idx[n.Name] = i
			i++
		}
		if len(f.Names) == 0 {
			i++
		}
	}
	found, at := false, 0
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if k, ok := queryKey(n).(*ast.Ident); ok {
			if j, isParam := idx[k.Name]; isParam {
				found, at = true, j
			}
		}
		return true
	})
	return at, found
}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

func calleeName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

var httpStatusConsts = map[string]int{
	"StatusOK": 200, "StatusCreated": 201, "StatusAccepted": 202, "StatusNoContent": 204,
}

// statusLit returns the value of a literal status: 200 or http.StatusOK.
func statusLit(e ast.Expr) (int, bool, error) {
	switch x := e.(type) {
	case *ast.BasicLit:
		v, err := strconv.Atoi(x.Value)
		return v, err == nil, err
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok && pkg.Name == "http" && strings.HasPrefix(x.Sel.Name, "Status") {
			v, ok := httpStatusConsts[x.Sel.Name]
			if !ok {
				return 0, false, fmt.Errorf("http.%s: add it to httpStatusConsts", x.Sel.Name)
			}
			return v, true, nil
		}
	}
	return 0, false, nil
}

// reads collects what the handler expression h reads and writes, following
// calls into the package's server-side functions. Functions are found by
// name, so same-named functions are all followed (an over-approximation
// that is exact as long as handler method names are unique).
func (ix *srcIndex) reads(t *testing.T, h ast.Expr) *handlerReads {
	rd := &handlerReads{query: map[string]bool{}, pathVals: map[string]bool{}, statuses: map[int]bool{}}
	seen := map[*ast.FuncDecl]bool{}
	var visit func(n ast.Node)
	visitName := func(name string) {
		for _, fd := range ix.funcs[name] {
			if !seen[fd] {
				seen[fd] = true
				visit(fd.Body)
			}
		}
	}
	visit = func(root ast.Node) {
		ast.Inspect(root, func(n ast.Node) bool {
			if k := queryKey(n); k != nil {
				if s, ok := stringLit(k); ok {
					rd.query[s] = true
				}
			}
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := calleeName(c)
			if i, ok := ix.queryHelpers[name]; ok && i < len(c.Args) {
				if s, ok := stringLit(c.Args[i]); ok {
					rd.query[s] = true
				}
			}
			switch {
			case name == "PathValue" && len(c.Args) == 1:
				if s, ok := stringLit(c.Args[0]); ok {
					rd.pathVals[s] = true
				}
			case (name == "WriteJSON" || name == "WriteDaemonsJSON") && len(c.Args) >= 2:
				rd.addStatus(t, ix.fset, c.Args[1])
			case name == "WriteHeader" && len(c.Args) == 1:
				rd.addStatus(t, ix.fset, c.Args[0])
			case name == "WriteError" || name == "writeError":
				rd.failing = true
			}
			visitName(name)
			return true
		})
	}
	switch x := h.(type) {
	case *ast.FuncLit:
		visit(x.Body)
	case *ast.SelectorExpr:
		visitName(x.Sel.Name)
	case *ast.Ident:
		visitName(x.Name)
	default:
		t.Errorf("%s: handler is neither a function literal nor a named function; this test cannot read it", ix.fset.Position(h.Pos()))
	}
	return rd
}

func (rd *handlerReads) addStatus(t *testing.T, fset *token.FileSet, e ast.Expr) {
	v, ok, err := statusLit(e)
	if err != nil {
		t.Errorf("%s: %v", fset.Position(e.Pos()), err)
	}
	if ok {
		rd.statuses[v] = true
	}
}

// routes returns every Handle/HandleFunc registration but the catch-all.
func (ix *srcIndex) routes(t *testing.T) []srcRoute {
	var out []srcRoute
	catchAll := false
	for _, f := range ix.files {
		ast.Inspect(f, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			s, ok := c.Fun.(*ast.SelectorExpr)
			if !ok || (s.Sel.Name != "HandleFunc" && s.Sel.Name != "Handle") || len(c.Args) != 2 {
				return true
			}
			pos := ix.fset.Position(c.Pos()).String()
			pat, ok := stringLit(c.Args[0])
			if !ok {
				t.Errorf("%s: route pattern is not a string literal; this test cannot check it", pos)
				return true
			}
			if pat == "/" {
				catchAll = true
				return true
			}
			if !strings.Contains(pat, " ") {
				t.Errorf("%s: route %q has no method; every API route names one", pos, pat)
				return true
			}
			out = append(out, srcRoute{pattern: pat, pos: pos, reads: ix.reads(t, c.Args[1])})
			return true
		})
	}
	if !catchAll {
		t.Error(`the catch-all route "/" (no such API route) was not found`)
	}
	if len(out) == 0 {
		t.Fatal("no routes found in the source")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pattern < out[j].pattern })
	return out
}

// registrarAssertions returns the types the registrars (init functions)
// type-assert the backend to.
func (ix *srcIndex) registrarAssertions() map[string]string {
	out := map[string]string{}
	for _, fds := range ix.funcs["init"] {
		ast.Inspect(fds.Body, func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			if !ok || ta.Type == nil {
				return true
			}
			switch ty := ta.Type.(type) {
			case *ast.Ident:
				out[ty.Name] = ix.fset.Position(ta.Pos()).String()
			case *ast.SelectorExpr:
				out[ty.Sel.Name] = ix.fset.Position(ta.Pos()).String()
			}
			return true
		})
	}
	return out
}

// --- patterns ---

var wildcardRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

// openAPIPattern turns a ServeMux pattern into OpenAPI's form:
// "GET /a/{x...}/{$}" → "GET /a/{x}/".
func openAPIPattern(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return wildcardRE.ReplaceAllString(p, "{$1}")
}

// request builds a request that a pattern (either form) matches, with
// each wildcard filled with "p-<name>".
func request(pattern string) *http.Request {
	method, path, _ := strings.Cut(openAPIPattern(pattern), " ")
	path = wildcardRE.ReplaceAllString(path, "p-$1")
	return httptest.NewRequest(method, path, nil)
}

func wildcards(pattern string) map[string]bool {
	out := map[string]bool{}
	for _, m := range wildcardRE.FindAllStringSubmatch(pattern, -1) {
		out[m[1]] = true
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- tests ---

func TestOpenAPIBackendCoversRegistrars(t *testing.T) {
	ix := parseSource(t)
	asserted := ix.registrarAssertions()
	if len(asserted) == 0 {
		t.Fatal("no registrar type assertions found")
	}
	embedded := map[string]bool{}
	bt := reflect.TypeOf(allBackends{})
	for i := 0; i < bt.NumField(); i++ {
		if f := bt.Field(i); f.Anonymous {
			embedded[f.Name] = true
		}
	}
	for _, name := range keys(asserted) {
		if !embedded[name] {
			t.Errorf("%s: a registrar serves %s, which allBackends does not embed; add it so that its routes are checked", asserted[name], name)
		}
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	oa := loadOpenAPI(t)
	routes := parseSource(t).routes(t)
	mux := NewHandler(allBackends{}).Mux()
	for _, r := range routes {
		if _, got := mux.Handler(request(r.pattern)); got != r.pattern {
			t.Errorf("%s: route %q is not served by NewHandler(allBackends{}) (a request for it matched %q)", r.pos, r.pattern, got)
		}
		o, ok := oa.ops[openAPIPattern(r.pattern)]
		if !ok {
			t.Errorf("%s: route %q is not documented in %s (want path %q, method %s)", r.pos, r.pattern, openAPIPath,
				strings.SplitN(openAPIPattern(r.pattern), " ", 2)[1], strings.ToLower(strings.SplitN(r.pattern, " ", 2)[0]))
			continue
		}
		documented := map[string]bool{}
		for _, p := range o.params {
			if p.In == "query" {
				documented[p.Name] = true
			}
		}
		for _, q := range keys(r.reads.query) {
			if !documented[q] {
				t.Errorf("%s: %s reads query parameter %q, which %s does not document", r.pos, r.pattern, q, openAPIPath)
			}
		}
		for _, q := range keys(documented) {
			if !r.reads.query[q] {
				t.Errorf("%s documents query parameter %q for %s, which the handler does not read", openAPIPath, q, r.pattern)
			}
		}
		wc := wildcards(r.pattern)
		for _, pv := range keys(r.reads.pathVals) {
			if !wc[pv] {
				t.Errorf("%s: %s reads path value %q, which is not a wildcard of its pattern", r.pos, r.pattern, pv)
			}
		}
		var docOK []int
		for code := range o.op.Responses {
			if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 300 {
				docOK = append(docOK, n)
			}
		}
		sort.Ints(docOK)
		var written []int
		for code := range r.reads.statuses {
			if code >= 200 && code < 300 {
				written = append(written, code)
			}
		}
		sort.Ints(written)
		_, docErr := o.op.Responses["default"]
		if r.reads.failing && !docErr {
			t.Errorf("%s: %s can answer an error, but %s documents no default (error) response", r.pos, r.pattern, openAPIPath)
		} else if !r.reads.failing && docErr {
			t.Errorf("%s documents an error response for %s, whose handler never writes one", openAPIPath, r.pattern)
		}
		if len(written) == 0 {
			t.Errorf("%s: no literal success status found in the handler of %s; this test cannot check its responses", r.pos, r.pattern)
		} else if !reflect.DeepEqual(written, docOK) {
			t.Errorf("%s: %s answers %v on success, %s documents %v", r.pos, r.pattern, written, openAPIPath, docOK)
		}
	}
}

func TestOpenAPIOperationsAreServed(t *testing.T) {
	oa := loadOpenAPI(t)
	if len(oa.ops) == 0 {
		t.Fatalf("%s documents no operations", openAPIPath)
	}
	h := NewHandler(allBackends{})
	ids := map[string]string{}
	for _, pat := range keys(oa.ops) {
		o := oa.ops[pat]
		req := request(pat)
		_, got := h.Mux().Handler(req)
		if openAPIPattern(got) != pat {
			t.Errorf("%s documents %s, but the router matches %s %s to %q", openAPIPath, pat, req.Method, req.URL.Path, got)
		}
		if o.op.OperationID == "" {
			t.Errorf("%s: no operationId", pat)
		} else if prev, dup := ids[o.op.OperationID]; dup {
			t.Errorf("%s: operationId %q is also used by %s", pat, o.op.OperationID, prev)
		} else {
			ids[o.op.OperationID] = pat
		}
		if r, ok := o.op.Responses["default"]; ok && r.Ref != errorResponseRef {
			t.Errorf("%s: responses.default is not $ref %s", pat, errorResponseRef)
		}
		declared := map[string]bool{}
		for _, p := range o.params {
			if p.In == "path" {
				if !p.Required {
					t.Errorf("%s: path parameter %q is not required: true", pat, p.Name)
				}
				declared[p.Name] = true
			}
		}
		if want := wildcards(pat); !reflect.DeepEqual(keys(want), keys(declared)) {
			t.Errorf("%s: path parameters declared %v, template has %v", pat, keys(declared), keys(want))
		}
	}
}

// TestOpenAPIUnknownRoute pins what the documents say of a request no
// route matches: a JSON ENOENT 404, also for a known path with another
// method (never ServeMux's plain-text 405).
func TestOpenAPIUnknownRoute(t *testing.T) {
	h := NewHandler(allBackends{})
	for _, pat := range []string{"PUT /hosts", "GET /hosts/p-host", "GET /no/such/route"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(pat))
		want := `{"errno":2,"errno_name":"ENOENT","error":"no such API route: ` + pat + `"}`
		if got := strings.TrimSpace(w.Body.String()); w.Code != http.StatusNotFound || got != want {
			t.Errorf("%s: %d %s, want 404 %s", pat, w.Code, got, want)
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	oa := loadOpenAPI(t)
	n := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				n++
				if !oa.pointer(ref) {
					t.Errorf("%s: $ref %q does not resolve", path, ref)
				}
			}
			for _, k := range keys(x) {
				walk(path+"/"+k, x[k])
			}
		case []any:
			for i, e := range x {
				walk(path+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("#", oa.raw)
	if n == 0 {
		t.Fatalf("%s has no $ref at all", openAPIPath)
	}
}
