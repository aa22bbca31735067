<?php
// A test IdP: Debian's SimpleSAMLphp configuration with the values that make
// it run as one `php -S` process over plain http, its state in SSP_STATE_DIR.
require '/etc/simplesamlphp/config.php';

$state = getenv('SSP_STATE_DIR');
$config = array_merge($config, [
    'baseurlpath' => getenv('SSP_BASE_URL'),
    'certdir' => $state . '/cert/',
    'loggingdir' => $state . '/log/',
    'datadir' => $state . '/data/',
    'tempdir' => $state . '/tmp',
    'secretsalt' => 'progression-test-idp-salt',
    'auth.adminpassword' => 'progression-test-idp-admin',
    'admin.protectindexpage' => false,
    'timezone' => 'UTC',
    'logging.handler' => 'stderr',
    'logging.level' => SimpleSAML\Logger::WARNING,
    'enable.saml20-idp' => true,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    // Plain http: a Secure or SameSite=None cookie would be dropped.
    'session.cookie.secure' => false,
    'session.cookie.samesite' => 'Lax',
    'session.phpsession.savepath' => $state . '/sessions',
    'store.type' => 'phpsession',
    'metadata.sources' => [['type' => 'flatfile', 'directory' => dirname(__DIR__) . '/metadata']],
]);
