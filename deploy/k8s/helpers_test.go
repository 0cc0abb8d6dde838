package k8s

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func metav1Selector(s appsv1.StatefulSet) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s.Spec.Selector)
}

func pdbSelector(p policyv1.PodDisruptionBudget) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(p.Spec.Selector)
}

func hasPort(ps []corev1.ServicePort, port int32) bool {
	for _, p := range ps {
		if p.Port == port {
			return true
		}
	}
	return false
}

func hasPortProto(ps []corev1.ServicePort, port int32, proto corev1.Protocol) bool {
	for _, p := range ps {
		if p.Port == port && (p.Protocol == proto || p.Protocol == "" && proto == corev1.ProtocolTCP) {
			return true
		}
	}
	return false
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
