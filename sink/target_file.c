/*-------------------------------------------------------------------------
 *
 * target_file.c
 *	  The local-directory target (sink/target: file:///path).
 *
 * Objects are files under the root with the same names as in a bucket
 * ("a/b/c.json" -> ROOT/a/b/c.json).  A store writes a hidden temporary
 * file in the final directory, fsyncs it, renames it over the final name
 * and fsyncs the directory, so readers see either the old file or the
 * whole new one, and a crash leaves at most a ".ferry-tmp-*" file (which
 * list ignores and the next store of that directory does not care about).
 *
 * IDENTIFICATION
 *	  sink/target_file.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "target.h"

#define TMP_PREFIX ".ferry-tmp-"

struct sink_dir
{
	char	   *root;
	bool		fsync;
};

sink_dir_t *
sink_dir_new(const char *root, bool do_fsync, char *errbuf, size_t errlen)
{
	sink_dir_t *d;

	if (root[0] != '/')
	{
		snprintf(errbuf, errlen, "invalid file target \"%s\": the path must be absolute (file:///path)", root);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	d->root = strdup(root);
	/* no trailing slash */
	while (strlen(d->root) > 1 && d->root[strlen(d->root) - 1] == '/')
		d->root[strlen(d->root) - 1] = '\0';
	d->fsync = do_fsync;
	return d;
}

void
sink_dir_free(sink_dir_t *d)
{
	if (d == NULL)
		return;
	free(d->root);
	free(d);
}

/* mkdir -p of the directory part of path (everything before the last '/') */
static int
make_parents(char *path, char *errbuf, size_t errlen)
{
	char	   *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return 0;
	for (char *p = path + 1; p <= slash; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
		{
			snprintf(errbuf, errlen, "could not create directory \"%s\": %s", path, strerror(errno));
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int
sink_dir_check(sink_dir_t *d, char *errbuf, size_t errlen)
{
	sink_buf_t	p = SINK_BUF_INIT;
	int			rc = SINK_OK;

	sink_buf_appendf(&p, "%s/", d->root);
	if (make_parents(p.data, errbuf, errlen) != 0)
		rc = SINK_ERR_FATAL;
	else if (access(d->root, W_OK | X_OK) != 0)
	{
		snprintf(errbuf, errlen, "could not write to directory \"%s\": %s", d->root, strerror(errno));
		rc = SINK_ERR_FATAL;
	}
	sink_buf_free(&p);
	return rc;
}

static int
fsync_dir(const char *dir, char *errbuf, size_t errlen)
{
	int			fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0 || fsync(fd) != 0)
	{
		snprintf(errbuf, errlen, "could not fsync directory \"%s\": %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
sink_dir_put(sink_dir_t *d, const char *key, const void *data, size_t len,
			 char *errbuf, size_t errlen)
{
	sink_buf_t	path = SINK_BUF_INIT;
	sink_buf_t	tmp = SINK_BUF_INIT;
	const char *base;
	const char *p = data;
	size_t		left = len;
	int			fd = -1;
	int			rc = SINK_ERR_FATAL;

	if (strstr(key, "..") != NULL)
	{
		snprintf(errbuf, errlen, "invalid object name \"%s\"", key);
		return SINK_ERR_FATAL;
	}
	sink_buf_appendf(&path, "%s/%s", d->root, key);
	if (make_parents(path.data, errbuf, errlen) != 0)
		goto done;
	base = strrchr(path.data, '/') + 1;
	sink_buf_append(&tmp, path.data, (size_t) (base - path.data));
	sink_buf_appendf(&tmp, TMP_PREFIX "%d-%s", (int) getpid(), base);

	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
	{
		snprintf(errbuf, errlen, "could not create file \"%s\": %s", tmp.data, strerror(errno));
		goto done;
	}
	while (left > 0)
	{
		ssize_t		n = write(fd, p, left);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			snprintf(errbuf, errlen, "could not write file \"%s\": %s", tmp.data, strerror(errno));
			/* a full disk may clear up: let the caller retry */
			rc = (errno == ENOSPC) ? SINK_ERR_RETRY : SINK_ERR_FATAL;
			goto done;
		}
		p += n;
		left -= (size_t) n;
	}
	if (d->fsync && fsync(fd) != 0)
	{
		snprintf(errbuf, errlen, "could not fsync file \"%s\": %s", tmp.data, strerror(errno));
		goto done;
	}
	if (close(fd) != 0)
	{
		fd = -1;
		snprintf(errbuf, errlen, "could not close file \"%s\": %s", tmp.data, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp.data, path.data) != 0)
	{
		snprintf(errbuf, errlen, "could not rename file \"%s\" to \"%s\": %s",
				 tmp.data, path.data, strerror(errno));
		goto done;
	}
	if (d->fsync)
	{
		*strrchr(path.data, '/') = '\0';
		if (fsync_dir(path.data, errbuf, errlen) != 0)
			goto done;
	}
	rc = SINK_OK;

done:
	if (fd >= 0)
		close(fd);
	if (rc != SINK_OK && tmp.data)
		unlink(tmp.data);
	sink_buf_free(&path);
	sink_buf_free(&tmp);
	return rc;
}

int
sink_dir_delete(sink_dir_t *d, const char *key, char *errbuf, size_t errlen)
{
	sink_buf_t	path = SINK_BUF_INIT;
	int			rc = SINK_OK;

	sink_buf_appendf(&path, "%s/%s", d->root, key);
	if (unlink(path.data) != 0 && errno != ENOENT)
	{
		snprintf(errbuf, errlen, "could not remove file \"%s\": %s", path.data, strerror(errno));
		rc = SINK_ERR_FATAL;
	}
	sink_buf_free(&path);
	return rc;
}

/* walk dir (relative name rel) and report files whose name starts with prefix */
static int
walk(sink_dir_t *d, sink_buf_t *rel, const char *prefix, size_t strip,
	 sink_target_list_cb cb, void *arg, char *errbuf, size_t errlen)
{
	sink_buf_t	path = SINK_BUF_INIT;
	DIR		   *dir;
	struct dirent *de;
	size_t		rlen = rel->len;
	int			rc = SINK_OK;

	sink_buf_appendf(&path, "%s/%s", d->root, rel->data ? rel->data : "");
	dir = opendir(path.data);
	if (dir == NULL)
	{
		if (errno != ENOENT)
		{
			snprintf(errbuf, errlen, "could not open directory \"%s\": %s", path.data, strerror(errno));
			rc = SINK_ERR_FATAL;
		}
		sink_buf_free(&path);
		return rc;
	}
	while (rc == SINK_OK && (de = readdir(dir)) != NULL)
	{
		size_t		cmp;
		struct stat st;
		sink_buf_t	full = SINK_BUF_INIT;

		if (de->d_name[0] == '.')
			continue;			/* ., .., temporary files */
		rel->len = rlen;
		sink_buf_appends(rel, de->d_name);
		/* prune: the name so far must agree with the prefix */
		cmp = rel->len < strlen(prefix) ? rel->len : strlen(prefix);
		if (strncmp(rel->data, prefix, cmp) != 0)
			continue;
		sink_buf_appendf(&full, "%s/%s", d->root, rel->data);
		if (stat(full.data, &st) == 0)
		{
			if (S_ISDIR(st.st_mode))
			{
				sink_buf_appendc(rel, '/');
				rc = walk(d, rel, prefix, strip, cb, arg, errbuf, errlen);
			}
			else if (S_ISREG(st.st_mode) && rel->len >= strlen(prefix))
			{
				if (cb(rel->data + strip, arg) != 0)
					rc = 1;
			}
		}
		sink_buf_free(&full);
	}
	closedir(dir);
	rel->len = rlen;
	if (rel->data)
		rel->data[rlen] = '\0';
	sink_buf_free(&path);
	return rc;
}

int
sink_dir_list(sink_dir_t *d, const char *prefix, size_t strip,
			  sink_target_list_cb cb, void *arg, char *errbuf, size_t errlen)
{
	sink_buf_t	rel = SINK_BUF_INIT;
	int			rc;

	sink_buf_appends(&rel, "");
	rc = walk(d, &rel, prefix, strip, cb, arg, errbuf, errlen);
	sink_buf_free(&rel);
	return rc == 1 ? SINK_OK : rc;
}
