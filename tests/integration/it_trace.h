/* Tracing every integration suite (ctest's *_traced twins set LF_TEST_TRACE):
 * every handle made through it_config() gets a trace function that checks
 * each line against every secret the suite made (client secrets, previous
 * secrets, codes, tokens, and the Basic credentials base64(id:secret)). A
 * line holding any 8-byte run of one of them is a hit; the suite's group
 * teardown fails when there was a hit, or when nothing was traced at all. */
#ifndef LF_IT_TRACE_H
#define LF_IT_TRACE_H

#include <lightfunnels/auth.h>

int it_trace_enabled(void);
/* Sets cfg->trace when tracing is enabled. */
void it_trace_install(lf_auth_config *cfg);
/* Registers a secret (NULL and "" are ignored). */
void it_trace_watch(const char *secret);
/* Registers base64(client_id ":" secret). */
void it_trace_watch_basic(const char *client_id, const char *secret);
/* -1 (with a message) on any hit, or when tracing was on and no line came;
 * else 0. For a group teardown's return value. */
int it_trace_report(void);

#endif
