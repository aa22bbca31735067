<?php
// Service providers come from SSP_STATE_DIR/sps.json, keyed by entity ID, so
// tests can register each connection's SP (with per-SP signing options).
$sps = json_decode((string) @file_get_contents(getenv('SSP_STATE_DIR') . '/sps.json'), true) ?: [];
foreach ($sps as $entityId => $sp) {
    $metadata[$entityId] = $sp;
}
