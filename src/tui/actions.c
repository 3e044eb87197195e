/* actions.c — the key table and key scripts. */
#include "actions.h"
#include "canvas.h"

#include <stdio.h>
#include <string.h>

static const struct mp_keydef keymap[] = {
#define MP_X_KEY(k, name, act, scope, help) {k, name, MP_ACT_##act, scope, help},
	MP_KEYMAP(MP_X_KEY)
#undef MP_X_KEY
};
#define NKEYS (sizeof keymap / sizeof keymap[0])

const struct mp_keydef *mp_keymap(size_t *n)
{
	*n = NKEYS;
	return keymap;
}

enum mp_action mp_action_for(int key, const char *scope)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keymap[i].key == key && !strcmp(keymap[i].scope, scope))
			return keymap[i].action;
	for (size_t i = 0; i < NKEYS; i++)
		if (keymap[i].key == key && !strcmp(keymap[i].scope, "all"))
			return keymap[i].action;
	return MP_ACT_NONE;
}

const char *mp_key_name(int key, char buf[8])
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keymap[i].key == key)
			return keymap[i].name;
	static const struct {
		int key;
		const char *name;
	} extra[] = {{MP_KEY_BACKSPACE, "Backspace"}, {MP_KEY_TAB, "Tab"},
		     {MP_KEY_RESIZE, "Resize"}, {MP_KEY_MOUSE, "Mouse"}};
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
		if (extra[i].key == key)
			return extra[i].name;
	if (key > 0x20 && key < 0x110000 && key != 0x7f)
		buf[mp_utf8_put((uint32_t)key, buf)] = '\0';
	else
		snprintf(buf, 8, "#%d", key & 0xffff);
	return buf;
}

int mp_keys_parse(const char *s, int *keys, int max, char bad[32])
{
	int n = 0;
	while (*s && n < max) {
		if (*s == '<' && strchr(s, '>') && strchr(s, '>') - s > 1) {
			const char *end = strchr(s, '>');
			size_t len = (size_t)(end - s - 1);
			int key = -1;
			for (size_t i = 0; i < NKEYS && key < 0; i++)
				if (strlen(keymap[i].name) == len &&
				    !strncmp(keymap[i].name, s + 1, len))
					key = keymap[i].key;
			if (len == 9 && !strncmp(s + 1, "Backspace", 9))
				key = MP_KEY_BACKSPACE;
			if (len == 3 && !strncmp(s + 1, "Tab", 3))
				key = MP_KEY_TAB;
			if (key < 0) {
				snprintf(bad, 32, "%.*s", (int)(len < 30 ? len : 30),
					 s + 1);
				return -1;
			}
			keys[n++] = key;
			s = end + 1;
			continue;
		}
		keys[n++] = (unsigned char)*s++;
	}
	return n;
}
