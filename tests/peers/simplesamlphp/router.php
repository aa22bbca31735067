<?php
// Route /script.php/path/info requests the way Apache would for SimpleSAMLphp.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$docroot = $_SERVER['DOCUMENT_ROOT'];
if (preg_match('#^(/.+?\.php)(/.*)?$#', $path, $match) && is_file($docroot . $match[1])) {
    $script = $docroot . $match[1];
    $_SERVER['SCRIPT_NAME'] = $match[1];
    $_SERVER['SCRIPT_FILENAME'] = $script;
    $_SERVER['PATH_INFO'] = $match[2] ?? '';
    $_SERVER['PHP_SELF'] = $match[1] . ($match[2] ?? '');
    chdir(dirname($script));
    require $script;
    return true;
}
return false;
