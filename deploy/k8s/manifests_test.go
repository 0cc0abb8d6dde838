package k8s

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization this directory
// uses (kustomize's types are a large module of their own).
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// decoder is the API server's own strict YAML decoding (case-sensitive
// field names; unknown or duplicate fields are errors) for the kinds
// deploy/k8s uses.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
}()

// manifests decodes every document of every *.yaml file but the
// kustomization strictly into its API type.
type manifests struct {
	sts      []appsv1.StatefulSet
	services []corev1.Service
	secrets  []corev1.Secret
	pdbs     []policyv1.PodDisruptionBudget
	files    []string
}

func load(t *testing.T) manifests {
	t.Helper()
	paths, err := filepath.Glob("*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var m manifests
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if p == "kustomization.yaml" {
			continue
		}
		m.files = append(m.files, p)
		for i, doc := range bytes.Split(b, []byte("\n---\n")) {
			obj, gvk, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s #%d: %v", p, i, err)
				continue
			}
			switch o := obj.(type) {
			case *appsv1.StatefulSet:
				m.sts = append(m.sts, *o)
			case *corev1.Service:
				m.services = append(m.services, *o)
			case *corev1.Secret:
				m.secrets = append(m.secrets, *o)
			case *policyv1.PodDisruptionBudget:
				m.pdbs = append(m.pdbs, *o)
			default:
				t.Errorf("%s #%d: unexpected %v", p, i, gvk)
			}
		}
	}
	return m
}

// TestStrictDecodingCatchesTypos: the decoding the other tests rely on
// rejects a misspelt field (wrong case, unknown, wrong type), so a manifest that decodes
// has only fields the API knows.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: v1\nkind: Service\nspec:\n  clusterIp: None\n",  // wrong case
		"apiVersion: v1\nkind: Service\nspec:\n  clusterIPs: None\n", // wrong type
		"apiVersion: v1\nkind: Service\nspec:\n  selectors: {}\n",    // unknown
	} {
		if _, _, err := decoder.Decode([]byte(doc), nil, nil); err == nil {
			t.Errorf("%q decoded without error", doc)
		}
	}
}

// TestKustomization: kustomization.yaml lists every manifest.
func TestKustomization(t *testing.T) {
	m := load(t)
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, m.files) {
		t.Errorf("kustomization resources %v, manifests %v", got, m.files)
	}
}

// TestManifests: the objects fit together as deploy/k8s's comments say:
// a StatefulSet whose serviceName is a headless Service publishing
// not-ready pods (gossip), a client Service selecting its pods, a PDB
// over them, the cluster secret from the Secret, node IDs from the pod
// name, /healthz and /readyz probes on the HTTP port, resource requests,
// and a volume claim mounted at the data directory.
func TestManifests(t *testing.T) {
	m := load(t)
	if len(m.sts) != 1 || len(m.secrets) != 1 || len(m.pdbs) != 1 || len(m.services) != 2 {
		t.Fatalf("want 1 StatefulSet, 1 Secret, 1 PDB, 2 Services; got %d, %d, %d, %d", len(m.sts), len(m.secrets), len(m.pdbs), len(m.services))
	}
	sts := m.sts[0]
	pod := sts.Spec.Template
	if sel, err := metav1Selector(sts); err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("the StatefulSet's selector does not match its pods' labels: %v", err)
	}
	var headless, client *corev1.Service
	for i := range m.services {
		s := &m.services[i]
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			t.Errorf("service %s does not select the pods", s.Name)
		}
		if s.Spec.ClusterIP == corev1.ClusterIPNone {
			headless = s
		} else {
			client = s
		}
	}
	if headless == nil || headless.Name != sts.Spec.ServiceName || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("no headless service %q publishing not-ready addresses (the StatefulSet's serviceName)", sts.Spec.ServiceName)
	}
	if client == nil || !hasPort(client.Spec.Ports, 6379) {
		t.Error("no client service on 6379")
	}
	if headless != nil && !(hasPortProto(headless.Spec.Ports, 7946, corev1.ProtocolTCP) && hasPortProto(headless.Spec.Ports, 7946, corev1.ProtocolUDP)) {
		t.Error("the headless service lacks gossip on 7946 TCP and UDP")
	}
	pdb := m.pdbs[0]
	if sel, err := pdbSelector(pdb); err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("the PDB does not select the pods: %v", err)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["POD_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Error("POD_NAME is not the pod's name")
	}
	if !slices.Contains(c.Args, "--id=$(POD_NAME)") {
		t.Errorf("the node ID is not the pod name: args %q", c.Args)
	}
	sec := env["DYNAKV_CLUSTER_SECRET"]
	if sec.ValueFrom == nil || sec.ValueFrom.SecretKeyRef == nil || sec.ValueFrom.SecretKeyRef.Name != m.secrets[0].Name {
		t.Error("DYNAKV_CLUSTER_SECRET does not come from the Secret")
	} else if _, ok := m.secrets[0].StringData[sec.ValueFrom.SecretKeyRef.Key]; !ok {
		t.Errorf("the Secret has no key %q", sec.ValueFrom.SecretKeyRef.Key)
	}
	for name, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || p.HTTPGet.Port.String() != "http" {
			t.Errorf("no %s probe on the http port", name)
		}
	}
	httpPort := false
	for _, p := range c.Ports {
		if p.Name == "http" && env["DYNAKV_HTTP"].Value == "0.0.0.0:"+itoa(p.ContainerPort) {
			httpPort = true
		}
	}
	if !httpPort {
		t.Error("the http port is not DYNAKV_HTTP's")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Error("no CPU or memory request")
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || !slices.ContainsFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool {
		return v.Name == sts.Spec.VolumeClaimTemplates[0].Name && v.MountPath == env["DYNAKV_DATA"].Value
	}) {
		t.Error("the data directory is not the volume claim's mount")
	}
	join := ""
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--join="); ok {
			join = v
		}
	}
	if !strings.HasPrefix(join, sts.Name+"-0."+sts.Spec.ServiceName+".") {
		t.Errorf("--join=%q is not the first pod's stable name", join)
	}
}
