package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumBinary returns Debian's chromium (or chromium-browser), or
// skips t saying how to get it.
func chromiumBinary(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed (apt-get install --no-install-recommends chromium; .ci/run does): skipping the status page's browser test")
	return ""
}

// chromium runs headless Chromium with args and returns its stdout. As
// root it needs --no-sandbox; its profile goes in a temporary directory.
func chromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %q: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// httpGet returns the body of url, or an error.
func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return string(b), fmt.Errorf("%s: %s", url, res.Status)
	}
	return string(b), err
}

// TestStatusPageInBrowser: a 3-node cluster, each node with --http; n3 is
// killed; headless Chromium loads n1's status page, whose DOM shows the
// ring (three nodes, their partitions) with n1 and n2 up and n3 down, and
// saves a screenshot as an artifact (go test -artifacts -outputdir DIR
// keeps it; its path is logged).
func TestStatusPageInBrowser(t *testing.T) {
	heavy(t)
	bin := chromiumBinary(t)
	common := []string{"--cluster-secret", testSecret, "--replicas", "3", "--read-quorum", "2", "--write-quorum", "2",
		"--partitions", "64", "--timeout", "1s"}
	var procs []*Proc
	var http []string
	for i := 1; i <= 3; i++ {
		addr := freeAddr(t)
		args := append(append([]string{}, common...), "--http", addr)
		if i > 1 {
			args = append(args, "--join", procs[0].Gossip())
		}
		procs = append(procs, StartServer(t, fmt.Sprintf("n%d", i), args...))
		http = append(http, addr)
	}
	waitMembers(t, procs, 3)
	waitSettled(t, procs)
	c := procs[0].Client(t)
	for i := range 100 {
		if err := c.Set(ctxT(t), fmt.Sprintf("key:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	procs[2].Kill()
	url := "http://" + http[0] + "/"
	downRow := regexp.MustCompile(`(?s)<tr id="node-n3">.*?<span class="down">DOWN</span>`)
	eventually(t, "n1's status page showing n3 down", 60*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil {
			return err
		}
		if !downRow.MatchString(body) {
			return fmt.Errorf("n3 not shown down yet")
		}
		return nil
	})
	dom := chromium(t, bin, "--dump-dom", url)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<h1>dynakv node n1</h1>`),
		regexp.MustCompile(`Ring \(3 nodes, <span class="bad">1 down</span>\)`),
		regexp.MustCompile(`(?s)<tr id="node-n1">.*?<span class="up">UP</span>`),
		regexp.MustCompile(`(?s)<tr id="node-n2">.*?<span class="up">UP</span>`),
		downRow,
		// Each node comes first for some of the 64 partitions.
		regexp.MustCompile(`(?s)<tr id="node-n3">.*?<td class="num">1</td><td class="num">[1-9][0-9]*</td><td class="num">64</td>`),
	} {
		if !want.MatchString(dom) {
			t.Errorf("the DOM Chromium rendered lacks %v:\n%s", want, dom)
		}
	}
	shot := filepath.Join(t.ArtifactDir(), "status-page-n3-down.png")
	chromium(t, bin, "--screenshot="+shot, "--window-size=1280,1500", url)
	st, err := os.Stat(shot)
	if err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot of n1's status page with n3 killed: %s (%d bytes)", shot, st.Size())
}
