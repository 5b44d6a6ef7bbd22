/*
 * fs-probe: exercises the file system capability for the escape tests
 * (runtime/fs_test.go). Every handler returns ok bytes saying what happened,
 * "ok: ..." or "error: <strerror(errno)>", so that the host sees both the
 * guest's view of a refusal and the audit event the host recorded.
 *
 * Built by scripts/build-c-fixtures.sh into fs-probe.wasm (committed).
 *
 *   read     input: path              "ok: <content>"
 *   write    input: "path\ncontent"   creates or truncates: "ok: wrote <n> bytes"
 *   append   input: "path\ncontent"   "ok: wrote <n> bytes"
 *   list     input: directory         "ok: <names, sorted, space-separated>" (no . and ..)
 *   stat     input: path              "ok: <file|dir|link|other> <size>" (follows links)
 *   lstat    input: path              the same, without following a final link
 *   symlink  input: "target\nlink"    "ok"
 *   link     input: "old\nnew"        a hard link: "ok"
 *   readlink input: path              "ok: <target>"
 *   rename   input: "from\nto"        "ok"
 *   unlink   input: path              "ok"
 *   mkdir    input: path              "ok"
 *   rmdir    input: path              "ok"
 *   utimes   input: path              sets both times to now: "ok"
 *   truncate input: path              truncate to 0 bytes: "ok"
 *
 * There is no chmod: WASI preview 1 has no call for it, and wasi-libc no
 * chmod().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vitte_plugin.h"

/* The input as a NUL-terminated, malloc'd string. */
static char *input(void) {
    vp_bytes in = vp_input();
    char *s = malloc(in.len + 1);
    if (s == NULL) {
        __builtin_trap();
    }
    memcpy(s, in.ptr, in.len);
    s[in.len] = 0;
    return s;
}

/* Splits s at its first newline: s is the first part, the result the second. */
static char *split(char *s) {
    char *nl = strchr(s, '\n');
    if (nl == NULL) {
        return s + strlen(s);
    }
    *nl = 0;
    return nl + 1;
}

static void fail(void) {
    vp_return_fmt("error: %s", strerror(errno));
}

/* ok, or the error of a call that returned -1. */
static void result(int rc) {
    if (rc == -1) {
        fail();
        return;
    }
    vp_return_str("ok");
}

VITTE_HANDLER(read) {
    char *path = input();
    int fd = open(path, O_RDONLY);
    free(path);
    if (fd < 0) {
        fail();
        return;
    }
    size_t cap = 256, n = 4;
    char *out = malloc(cap);
    memcpy(out, "ok: ", 4);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        ssize_t k = read(fd, out + n, cap - n);
        if (k < 0) {
            free(out);
            fail();
            close(fd);
            return;
        }
        if (k == 0) {
            break;
        }
        n += (size_t)k;
    }
    close(fd);
    vp_return_owned(out, n);
}

static void write_file(int flags) {
    char *path = input();
    char *content = split(path);
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        fail();
        free(path);
        return;
    }
    size_t len = strlen(content);
    ssize_t k = write(fd, content, len);
    if (k < 0) {
        fail();
    } else {
        vp_return_fmt("ok: wrote %zd bytes", k);
    }
    close(fd);
    free(path);
}

VITTE_HANDLER(write) { write_file(O_WRONLY | O_CREAT | O_TRUNC); }

VITTE_HANDLER(append) { write_file(O_WRONLY | O_CREAT | O_APPEND); }

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

VITTE_HANDLER(list) {
    char *path = input();
    DIR *d = opendir(path);
    free(path);
    if (d == NULL) {
        fail();
        return;
    }
    char **names = NULL;
    size_t n = 0, total = 4;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
        total += strlen(e->d_name) + 1;
    }
    int err = errno;
    closedir(d);
    if (err != 0) {
        errno = err;
        fail();
    } else {
        qsort(names, n, sizeof *names, cmp);
        char *out = malloc(total);
        size_t off = 4;
        memcpy(out, "ok: ", 4);
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(names[i]);
            memcpy(out + off, names[i], l);
            off += l;
            if (i + 1 < n) {
                out[off++] = ' ';
            }
        }
        vp_return_owned(out, n == 0 ? 3 : off); /* "ok:" alone when empty */
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static void stat_result(int rc, const struct stat *st) {
    if (rc == -1) {
        fail();
        return;
    }
    const char *type = S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir" : S_ISLNK(st->st_mode) ? "link" : "other";
    vp_return_fmt("ok: %s %lld", type, (long long)st->st_size);
}

VITTE_HANDLER(stat) {
    char *path = input();
    struct stat st;
    int rc = stat(path, &st);
    stat_result(rc, &st);
    free(path);
}

VITTE_HANDLER(lstat) {
    char *path = input();
    struct stat st;
    int rc = lstat(path, &st);
    stat_result(rc, &st);
    free(path);
}

VITTE_HANDLER(symlink) {
    char *target = input();
    char *link = split(target);
    result(symlink(target, link));
    free(target);
}

VITTE_HANDLER(link) {
    char *old = input();
    char *new = split(old);
    result(link(old, new));
    free(old);
}

VITTE_HANDLER(readlink) {
    char *path = input();
    char buf[4096];
    ssize_t n = readlink(path, buf, sizeof buf);
    free(path);
    if (n < 0) {
        fail();
        return;
    }
    vp_return_fmt("ok: %.*s", (int)n, buf);
}

VITTE_HANDLER(rename) {
    char *from = input();
    char *to = split(from);
    result(rename(from, to));
    free(from);
}

VITTE_HANDLER(unlink) {
    char *path = input();
    result(unlink(path));
    free(path);
}

VITTE_HANDLER(mkdir) {
    char *path = input();
    result(mkdir(path, 0755));
    free(path);
}

VITTE_HANDLER(rmdir) {
    char *path = input();
    result(rmdir(path));
    free(path);
}

VITTE_HANDLER(utimes) {
    char *path = input();
    result(utimensat(AT_FDCWD, path, NULL, 0));
    free(path);
}

VITTE_HANDLER(truncate) {
    char *path = input();
    result(truncate(path, 0));
    free(path);
}
