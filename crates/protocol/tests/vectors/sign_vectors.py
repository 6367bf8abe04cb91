#!/usr/bin/env python3
"""Signature vectors for cashloan-protocol, computed outside Rust.

An independent implementation of docs/api.md's signature: canonical JSON (members sorted by
UTF-8 key bytes at every level, null members dropped, no whitespace, UTF-8 unescaped, numbers as
written) and lowercase hex SHA-1 of app_key + timestamp + nonce + canonical(body without sign).

Run:  python3 crates/protocol/tests/vectors/sign_vectors.py
Each output line: the body as sent, a tab, the canonical text, a tab, the signature.
"""
import hashlib
import json
import sys

APP_KEY = "12345678"


class Raw:
    """A number kept exactly as written."""

    def __init__(self, text):
        self.text = text


def esc(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch in '\b\f\n\r\t':
            out.append({'\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}[ch])
        elif o < 0x20:
            out.append('\\u%04x' % o)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def canon(v):
    if isinstance(v, dict):
        items = sorted(((k, x) for k, x in v.items() if x is not None), key=lambda kv: kv[0].encode('utf-8'))
        return '{' + ','.join(esc(k) + ':' + canon(x) for k, x in items) + '}'
    if isinstance(v, list):
        return '[' + ','.join(canon(x) for x in v) + ']'
    if isinstance(v, Raw):
        return v.text
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if v is None:
        return 'null'
    if isinstance(v, str):
        return esc(v)
    raise TypeError(type(v))


def text_of(v):
    if isinstance(v, str):
        return v
    if isinstance(v, Raw):
        return v.text
    return ''


BODIES = [
    # The seed's §7 request (its sign does not match its body; docs/api.md says so).
    '{"nonce":"admin","sign":"16c1bb0a5cee2af1632df8ef3a3e4d5b40f530fd","timestamp":"12"}',
    # Nested objects and arrays of objects, Chinese text, "500.00" and 500.00.
    '{"timestamp":"1511232391000","nonce":"30918475","amount":"500.00","raw":500.00,'
    '"phonebookList":[{"contactPhone":"13940460755","contactName":"木木","remark":null},'
    '{"remark":"同事","contactName":"张三","contactPhone":"138-0000-0000"}],'
    '"outer":{"z":{"b":2,"a":1},"a":[]}}',
    # Escaped quotes, backslashes, newlines, tabs and a control character.
    '{"timestamp":"1508051552854","nonce":"02589525","suggestion":"say \\"hi\\"\\nline2\\t\\\\ \\u0001 \\u00e9 \\/"}',
    # Integers, booleans, a member set to null, negative and exponent numbers.
    '{"timestamp":"1511758907184","nonce":"12345678","pageNum":1,"pageSize":10,"flag":true,'
    '"off":false,"gone":null,"neg":-12,"exp":1.5E+3,"zero":0}',
    # Whitespace between tokens, keys that sort by bytes (upper case before lower, CJK last).
    '{ "nonce" : "1" , "timestamp" : "2" , "b" : "x", "B" : "y", "_" : "z", "中" : "w", "a1" : [ 1 , 2 ] }',
    # Timestamp sent as a number; empty object and nested null.
    '{"timestamp":1511758907184,"nonce":"n","o":{},"p":{"q":null}}',
]


def main():
    for body in BODIES:
        obj = json.loads(body, parse_float=Raw, parse_int=Raw, object_pairs_hook=dict)
        ts, nonce = text_of(obj.get('timestamp')), text_of(obj.get('nonce'))
        unsigned = {k: v for k, v in obj.items() if k != 'sign'}
        c = canon(unsigned)
        sig = hashlib.sha1((APP_KEY + ts + nonce + c).encode('utf-8')).hexdigest()
        sys.stdout.write(body + '\t' + c + '\t' + sig + '\n')


if __name__ == '__main__':
    main()
