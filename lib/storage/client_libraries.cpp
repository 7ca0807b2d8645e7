#include "storage/client_libraries.h"

#include <dlfcn.h>

#include <string>

#include "util/error.h"

namespace ckpt::storage {
namespace {

// The library's handle; it stays loaded for the process's life.
void* open_library(const char* soname, const char* package) {
  void* h = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = ::dlerror();
    throw util::Error(util::ErrorKind::kUsage, std::string("object storage needs ") + soname + " (Debian package " +
                                                   package + "): " + (why ? why : "cannot load it"));
  }
  return h;
}

template <class F>
void bind(void* h, const char* soname, const char* name, F& out) {
  void* sym = ::dlsym(h, name);
  if (!sym) throw util::Error(util::ErrorKind::kUsage, std::string(soname) + ": has no " + name);
  out = reinterpret_cast<F>(sym);
}

}  // namespace

const CurlLibrary& curl_library() {
  static const CurlLibrary lib = [] {
    constexpr const char* so = "libcurl.so.4";
    void* h = open_library(so, "libcurl4");
    CurlLibrary l{};
    bind(h, so, "curl_easy_init", l.easy_init);
    bind(h, so, "curl_easy_reset", l.easy_reset);
    bind(h, so, "curl_easy_cleanup", l.easy_cleanup);
    bind(h, so, "curl_easy_setopt", l.easy_setopt);
    bind(h, so, "curl_easy_getinfo", l.easy_getinfo);
    bind(h, so, "curl_easy_strerror", l.easy_strerror);
    bind(h, so, "curl_slist_append", l.slist_append);
    bind(h, so, "curl_slist_free_all", l.slist_free_all);
    bind(h, so, "curl_multi_init", l.multi_init);
    bind(h, so, "curl_multi_cleanup", l.multi_cleanup);
    bind(h, so, "curl_multi_setopt", l.multi_setopt);
    bind(h, so, "curl_multi_add_handle", l.multi_add_handle);
    bind(h, so, "curl_multi_remove_handle", l.multi_remove_handle);
    bind(h, so, "curl_multi_perform", l.multi_perform);
    bind(h, so, "curl_multi_poll", l.multi_poll);
    bind(h, so, "curl_multi_info_read", l.multi_info_read);
    bind(h, so, "curl_getdate", l.getdate);
    decltype(&::curl_global_init) global_init = nullptr;
    bind(h, so, "curl_global_init", global_init);
    global_init(CURL_GLOBAL_DEFAULT);
    return l;
  }();
  return lib;
}

const XmlLibrary& xml_library() {
  static const XmlLibrary lib = [] {
    constexpr const char* so = "libxml2.so.2";
    void* h = open_library(so, "libxml2");
    XmlLibrary l{};
    bind(h, so, "xmlReadMemory", l.read_memory);
    bind(h, so, "xmlFreeDoc", l.free_doc);
    bind(h, so, "xmlDocGetRootElement", l.doc_get_root_element);
    return l;
  }();
  return lib;
}

const CryptoLibrary& crypto_library() {
  static const CryptoLibrary lib = [] {
    constexpr const char* so = "libcrypto.so.3";
    void* h = open_library(so, "libssl3");
    CryptoLibrary l{};
    bind(h, so, "EVP_Digest", l.digest);
    bind(h, so, "EVP_sha256", l.sha256);
    bind(h, so, "EVP_md5", l.md5);
    bind(h, so, "EVP_EncodeBlock", l.encode_block);
    return l;
  }();
  return lib;
}

}  // namespace ckpt::storage
