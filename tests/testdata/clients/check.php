<?php
// The client scripts' result: $out (version, checks, failures, skipped),
// printed as JSON at the end, and check, which counts one comparison and
// records it when $got is not exactly $want.
$out = ["version" => phpversion("redis"), "checks" => 0, "failures" => [], "skipped" => []];
function check($what, $got, $want) {
    global $out;
    $out["checks"]++;
    if ($got !== $want) {
        $out["failures"][] = "$what = " . json_encode($got) . ", want " . json_encode($want);
    }
}
