/*
 * plugin_load.c - finds and opens libdockwright-builder.so (see plugin.h).
 * Compiled into the executable, not into the plugin.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "dw_config.h"
#include "plugin.h"

static const struct builder_plugin *plugin_loaded;

/* The directory of the running executable, or "" when unknown. */
static void plugin__exe_dir(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n <= 0) {
    out[0] = '\0';
    return;
  }
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (slash)
    *slash = '\0';
}

static const struct builder_plugin *plugin__try(const char *path,
                                                struct buf *tried) {
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    buf_printf(tried, "\n  %s", dlerror());
    return NULL;
  }
  const struct builder_plugin *p = dlsym(handle, BUILDER_PLUGIN_SYMBOL);
  if (p == NULL || p->abi != BUILDER_PLUGIN_ABI) {
    buf_printf(tried, "\n  %s: not a dockwright builder plugin of ABI %d",
               path, BUILDER_PLUGIN_ABI);
    dlclose(handle);
    return NULL;
  }
  /* Kept open for the life of the process. */
  return p;
}

const struct builder_plugin *builder_plugin_load(struct err *err) {
  if (plugin_loaded)
    return plugin_loaded;
  struct buf tried = BUF_INIT;
  char dir[PATH_MAX];
  plugin__exe_dir(dir, sizeof(dir));

  const char *env = getenv("DOCKWRIGHT_BUILDER_PLUGIN");
  struct strv candidates = STRV_INIT;
  if (env && *env)
    strv_push(&candidates, env);
  if (dir[0]) {
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s/%s", dir, BUILDER_PLUGIN_FILE);
    strv_push_take(&candidates, buf_take(&b));
    /* Installed: <prefix>/bin/dockwright and <prefix>/<libdir>/dockwright/ */
    buf_printf(&b, "%s/../%s/dockwright/%s", dir, DW_LIBDIR,
               BUILDER_PLUGIN_FILE);
    strv_push_take(&candidates, buf_take(&b));
  }
  for (size_t i = 0; i < candidates.n && plugin_loaded == NULL; i++) {
    if (access(candidates.v[i], R_OK) != 0) {
      buf_printf(&tried, "\n  %s: not found", candidates.v[i]);
      continue;
    }
    plugin_loaded = plugin__try(candidates.v[i], &tried);
  }
  if (plugin_loaded == NULL)
    err_set(err, ERR_NOTFOUND,
            "the builder plugin %s could not be loaded; looked at:%s",
            BUILDER_PLUGIN_FILE, buf_cstr(&tried));
  strv_cleanup(&candidates);
  buf_cleanup(&tried);
  return plugin_loaded;
}
