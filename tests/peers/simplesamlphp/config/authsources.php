<?php
// Users come from SSP_STATE_DIR/users.json: [{"username", "password", "attributes"}].
$users = json_decode((string) @file_get_contents(getenv('SSP_STATE_DIR') . '/users.json'), true) ?: [];
$userpass = ['exampleauth:UserPass'];
foreach ($users as $user) {
    $userpass[$user['username'] . ':' . $user['password']] = $user['attributes'];
}
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => $userpass,
];
