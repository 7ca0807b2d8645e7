// libcurl, libxml2 and OpenSSL's libcrypto, loaded when the S3 client first needs them
// (dlopen), not when ckpt starts. Linked the usual way, libcurl brings about 30 shared libraries
// (TLS, Kerberos, LDAP, IDN, ...) whose loading and relocation cost every command ~8 ms of
// start-up, object store or not; most runs of ckpt never touch one.
//
// The tables hold the functions the S3 client calls, with their declared types (the headers are
// the libraries' own). Throws util::Error (kUsage) naming the library when it cannot be loaded.
#pragma once

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

namespace ckpt::storage {

struct CurlLibrary {
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_poll) multi_poll;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_getdate) getdate;
};

struct XmlLibrary {
  decltype(&::xmlReadMemory) read_memory;
  decltype(&::xmlFreeDoc) free_doc;
  decltype(&::xmlDocGetRootElement) doc_get_root_element;
};

struct CryptoLibrary {
  decltype(&::EVP_Digest) digest;
  decltype(&::EVP_sha256) sha256;
  decltype(&::EVP_md5) md5;
  decltype(&::EVP_EncodeBlock) encode_block;
};

// Loaded (and curl_global_init run) once, thread-safely, on the first call.
const CurlLibrary& curl_library();
const XmlLibrary& xml_library();
const CryptoLibrary& crypto_library();

}  // namespace ckpt::storage
