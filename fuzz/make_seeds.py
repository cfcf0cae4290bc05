#!/usr/bin/env python3
"""Writes the hand-made seed corpora under fuzz/corpus/<target>/seed-*.

Run from anywhere: python3 fuzz/make_seeds.py. Files found by fuzzing
(minimised with -merge=1) sit next to them without the seed- prefix.
Input layouts are described at the top of each fuzz_*.cpp."""
import hashlib
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, items):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for old in os.listdir(d):
        if old.startswith("seed-"):
            os.remove(os.path.join(d, old))
    for name, data in items:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


STATE = "q3X9vJ2kLm8PzR4tYw6bN1cH5dF7gS0aE2uI4oK6jMn"

callback = [
    ("full-url", f"https://app.example.test/callback?code=abc123XYZ&state={STATE}\0{STATE}"),
    ("query-only", f"code=abc123&state={STATE}\0{STATE}"),
    ("leading-q", f"?state={STATE}&code=xyz\0{STATE}"),
    ("no-expected", "code=abc123&state=whatever"),
    ("fragment", f"https://app/cb?code=c0de&state={STATE}#frag?code=evil\0{STATE}"),
    ("fragment-q", "https://app/cb#?code=evil&state=s\0s"),
    ("plus-space", "code=a+b%2Bc&state=s\0s"),
    ("double-enc", "code=%2541x&state=s\0s"),
    ("bad-escape", "code=%G1&state=s\0s"),
    ("short-escape", "code=ab%4\0"),
    ("trailing-pct", "code=ab%\0"),
    ("enc-nul", "code=a%00b&state=s\0s"),
    ("enc-ctl", "code=a%0Ab&state=s\0s"),
    ("enc-del", "code=a%7Fb\0"),
    ("repeat-code", "code=a&code=b&state=s\0s"),
    ("repeat-state", "code=a&state=s&state=s\0s"),
    ("repeat-desc", "error=access_denied&error_description=a&error_description=b&state=s\0s"),
    ("missing-eq", "code&state=s\0s"),
    ("empty-code", "code=&state=s\0s"),
    ("empty-state", "code=a&state=\0"),
    ("state-missing", "code=a\0s"),
    ("state-prefix", f"code=a&state={STATE[:-1]}\0{STATE}"),
    ("state-ext", f"code=a&state={STATE}x\0{STATE}"),
    ("denied", "error=access_denied&error_description=The+merchant+declined%21&state=s\0s"),
    ("denied-nostate", "error=access_denied&error_description=x"),
    ("denied-ctl", "error=access%0Adenied&error_description=line1%0D%0Aline2%1B[31m&state=s\0s"),
    ("denied-utf8", "error=access_denied&error_description=%C3%A9%E2%82%AC%F0%9F%98%80%C0%AF%ED%A0%80\0"),
    ("semicolon", "code=a;state=s\0s"),
    ("other-case", "Code=a&STATE=s&code=b&state=s\0s"),
    ("encoded-name", "%63ode=enc&%73tate=s\0s"),
    ("unknown-params", "foo=bar&code=a&&&x&state=s&=z\0s"),
    ("url-no-query", "https://app.example.test/callback\0"),
    ("url-scheme-in-query", "code=https://x&state=s\0s"),
    ("raw-nul", b"code=ab\x00cd&state=s"),
    ("utf8-code", "code=%E2%82%AC%C3%A9&state=s\0s"),
    ("long-code", "code=" + "A" * 4096 + "&state=s\0s"),
    ("over-length", "code=" + "B" * 8200),
]

token = [
    ("ok", '200 0\n{"access_token":"tok_ABCdef123-._~+/==","token_type":"bearer"}'),
    ("ok-extra", '200\n{"access_token":"abc","scope":"read_orders","expires_in":3600,"x":{"y":[1,2,{"z":null}]}}'),
    ("ok-ws", '201\n \t\r\n{ "access_token" : "abc" } \n'),
    ("dup", '200\n{"access_token":"a","access_token":"b"}'),
    ("case", '200\n{"Access_Token":"a"}'),
    ("nul-escape", '200\n{"access_token":"abc\\u0000def"}'),
    ("bad-unicode", '200\n{"access_token":"abc\\uZZZZ"}'),
    ("not-string", '200\n{"access_token":12345}'),
    ("null", '200\n{"access_token":null}'),
    ("empty", '200\n{"access_token":""}'),
    ("space", '200\n{"access_token":"ab cd"}'),
    ("crlf", '200\n{"access_token":"ab\\r\\nX-Evil: 1"}'),
    ("nonascii", '200\n{"access_token":"\u00e9t\u00e9"}'),
    ("pad-middle", '200\n{"access_token":"ab=cd"}'),
    ("at-cap", '200\n{"access_token":"' + "A" * 4096 + '"}'),
    ("over-cap", '200\n{"access_token":"' + "A" * 4097 + '"}'),
    ("depth8", "200\n" + '{"access_token":"a","n":' + "[" * 7 + "]" * 7 + "}"),
    ("depth9", "200\n" + '{"access_token":"a","n":' + "[" * 8 + "]" * 8 + "}"),
    ("deep1000", "200\n" + "[" * 1000 + "]" * 1000),
    ("trailing", '200\n{"access_token":"a"}x'),
    ("two-docs", '200\n{"access_token":"a"}{"access_token":"b"}'),
    ("array", '200\n[{"access_token":"a"}]'),
    ("string", '200\n"access_token"'),
    ("empty-body", "200\n"),
    ("bom", '200\n\ufeff{"access_token":"a"}'),
    ("html", "200\n<html><body>Bad Gateway</body></html>"),
    ("html-502", "502\n<html><body>Bad Gateway</body></html>"),
    ("ok-with-error", '200\n{"access_token":"a","error":"invalid_grant"}'),
    ("invalid-grant", '400 0 Sx9secretCANARYq7Z Cd0codeCANARYw3K\n{"error":"invalid_grant","error_description":"code @C is expired"}'),
    ("invalid-client", '401 0 Sx9secretCANARYq7Z\n{"error":"invalid_client","error_description":"bad secret @S"}'),
    ("echo-escaped", '400\n{"error":"invalid_request","error_description":"you sent @s and @c"}'),
    ("echo-key", '400\n{"error":"@S","error_description":"@C"}'),
    ("echo-cut", '400\n{"error":"invalid_request","error_description":"cut @T"}'),
    ("echo-slice", '400\n{"error":"k @M k","error_description":"slice @M of the secret"}'),
    ("echo-many", '403\n{"error_description":"' + "@S" * 20 + '"}'),
    ("lf-errors", '400\n{"errors":[{"message":"Invalid code @C","name":"BadCode","key":"invalid_code","path":["x"]}]}'),
    ("lf-errors-client", '401\n{"errors":[{"message":"client credentials","key":"bad_client"}]}'),
    ("errors-empty", '400\n{"errors":[]}'),
    ("errors-obj", '400\n{"errors":{"message":"x"}}'),
    ("errors-num-msg", '400\n{"errors":[{"message":42,"key":null}]}'),
    ("rate-429", '429 30\n{"error":"rate_limit_reached"}'),
    ("rate-key-200", '200\n{"errors":[{"key":"rate_limit_reached","message":"slow down"}]}'),
    ("redirect", "302\n"),
    ("redirect-json", '307\n{"error":"invalid_grant"}'),
    ("server-500", '500 3600\n{"error":"server_error","error_description":"oops\\u001b[31m\\n"}'),
    ("forbidden-plain", "403\nForbidden"),
    ("invalid-utf8", b'400\n{"error":"invalid_grant","error_description":"\xff\xfe\xc0\xaf\xed\xa0\x80ok"}'),
    ("long-desc", '400\n{"error":"invalid_request","error_description":"' + "\u20ac" * 200 + '"}'),
    ("numbers", '200\n{"access_token":"a","expires_in":1e400,"n":-1,"m":1234567890123456789012345678901234567890}'),
]

graphql = [
    ("ok", '200 0 Sx9secretCANARYq7Z Tk0tokenCANARYz9Q\n{"data":{"account":{"id":"acc_123"}}}'),
    ("ok-errors-null", '200\n{"data":{},"errors":null}'),
    ("errors", '200\n{"data":null,"errors":[{"message":"Field \'x\' doesn\'t exist","name":"GraphQLError","key":"bad_field","path":["query","x"]}]}'),
    ("errors-empty", '200\n{"errors":[]}'),
    ("errors-notarray", '200\n{"errors":"boom"}'),
    ("errors-numbers", '200\n{"errors":[{"message":12,"key":34}]}'),
    ("errors-many", "200\n" + '{"errors":[' + ",".join(['{"message":"m","key":"k"}'] * 200) + "]}"),
    ("errors-echo", '200\n{"errors":[{"message":"token @C invalid, secret @S","key":"@C"}]}'),
    ("errors-escaped-echo", '200\n{"errors":[{"message":"@c / @s","key":"bad"}]}'),
    ("errors-slice", '200 0 Sx7Kq2Lm9Pz3Vb Tk4Hw8Rt6Yn\n{"errors":[{"message":"m @M","key":"ab x7Kq2Lm9Pz3 cd"}]}'),
    ("rate-key", '200 12\n{"errors":[{"key":"rate_limit_reached","message":"Too many requests"}]}'),
    ("unauth", '401\n{"errors":[{"message":"Unauthorized","key":"unauthorized"}]}'),
    ("rate-429", "429 5\nslow down"),
    ("http-500", '500\n{"errors":[{"message":"Internal"}]}'),
    ("http-404-html", "404\n<html>not found</html>"),
    ("redirect", "301\n"),
    ("not-object", "200\n[1,2,3]"),
    ("empty", "200\n"),
    ("trailing", '200\n{"data":{}} x'),
    ("deep64", "200\n" + '{"d":' + "[" * 63 + "]" * 63 + "}"),
    ("deep65", "200\n" + '{"d":' + "[" * 64 + "]" * 64 + "}"),
    ("nul", '200\n{"data":"a\\u0000b"}'),
    ("dup-errors", '200\n{"errors":null,"errors":[{"message":"x"}]}'),
    ("oauth-error", '200\n{"error":"invalid_token","error_description":"expired"}'),
    ("invalid-utf8", b'200\n{"errors":[{"message":"\xc3\x28\xa0\xa1\xf0\x90\x80","key":"k\xff"}]}'),
    ("ctl-msg", '200\n{"errors":[{"message":"a\\r\\nInjected: 1\\u007f\\u0085\\u2028","key":"k\\t"}]}'),
    ("long-key", '200\n{"errors":[{"message":"m","key":"' + "k" * 100 + '"}]}'),
    ("long-msg", '200\n{"errors":[{"message":"' + "\U0001F600" * 100 + '"}]}'),
]

error_body = [
    ("oauth", '255 Sx9secretCANARYq7Z Cd0codeCANARYw3K\n{"error":"invalid_grant","error_description":"code @C expired"}'),
    ("lf", '64\n{"errors":[{"message":"bad @S","key":"k","name":"n"}]}'),
    ("name-only", '100\n{"errors":[{"message":"m","name":"OnlyName"}]}'),
    ("message-fallback", '100\n{"error":"e","message":"from message"}'),
    ("empty-error", '100\n{"error":"","errors":[{"key":"k2"}]}'),
    ("cap1", '1\n{"error":"x"}'),
    ("cap2-utf8", "2\n\u20ac\u20ac"),
    ("cap4-emoji", "4\n\U0001F600\U0001F600"),
    ("cap12-secret", "12\nab@Scd"),
    ("cap11-secret", "11\n@S@S@S"),
    ("partial-end", "200\nthe secret was @T"),
    ("slice", "100 Sx7Kq2Lm9Pz3Vb Cd4Hw8Rt6Yn\nhello x7Kq2Lm9Pz3 world"),
    ("slice-key", '100 Sx7Kq2Lm9Pz3Vb Cd4Hw8Rt6Yn\n{"error":"k x7Kq2Lm9Pz3 z","error_description":"@M"}'),
    ("slice-marker", "299\na @M b [redacted] c"),
    ("mark-cut", "21 Xredacted1a\n@S @S"),
    ("ctl", "200\nline1\r\nline2\ttab\x1b[31m\x7f"),
    ("c1-bidi", "200\nnel\u0085csi\u009b31m rlo\u202eabc\u202c lri\u2066x\u2069 alm\u061c lrm\u200e"),
    ("key-c1-bidi", '100\n{"error":"k\\u0085\\u202e","error_description":"d\\u009b\\u2067"}'),
    ("invalid", b"200\n\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80ok\xe2\x82"),
    ("raw-secret", "299\nSx9secretCANARYq7Z and Cd0codeCANARYw3K"),
    ("adjacent", "299\nSx9secretCANARYq7ZCd0codeCANARYw3KSx9secretCANARYq7Z"),
    ("overlap", "299 AAAAAAAAAAAa1 AAAAAAAAAAAa1Z\n@C@S"),
    ("prefix-secret", "299 Sx9secretCANARYq7Z Sx9secretCANARYq7ZLONGER1\nSx9secretCANARYq7ZLONGER1"),
    ("escaped", '299\n{"error":"@s","error_description":"@c"}'),
    ("deep", "299\n" + '{"error":"e","x":' + "[" * 70 + "]" * 70 + "}"),
    ("nul-raw", b'299\n{"error":"a\x00b"}'),
]

consent = [
    ("basic", f"my-client-id\0callback\0read_orders,write_orders\0{STATE}\0\x00"),
    ("no-state", "my-client-id\0callback\0read_orders"),
    ("loopback-http", f"id\0cb\0read_orders\0{STATE}\0\x05"),
    ("localhost", "id\0oauth/cb\0read_orders\0s\0\x06"),
    ("ipv6", "id\0cb\0read_orders\0s\0\x07"),
    ("authorize-custom", "id\0cb\0read_orders\0s\0\x08"),
    ("authorize-query", "id\0cb\0read_orders\0s\0\x10"),
    ("authorize-qmark", "id\0cb\0read_orders\0s\0\x18"),
    ("weird-client-id", "id with spaces&=?#%/\u00e9\u20ac\0cb\0read_orders\0s"),
    ("path-specials", "id\0cb/a?x=1&y=%20z;p=q\0read_orders\0s"),
    ("path-nonascii", "id\0caf\u00e9/\u20ac\0read_orders\0s"),
    ("state-specials", "id\0cb\0read_orders\0st ate&=?#%+\u00e9\x01\x7f"),
    ("state-empty", "id\0cb\0read_orders\0\0\x00"),
    ("scopes-ws", "id\0cb\0 read_orders ,\twrite_orders\r\n, ,read_orders,\0s"),
    ("scopes-dup", "id\0cb\0a,b,a,c,b\0s"),
    ("scopes-empty", "id\0cb\0\0s"),
    ("scopes-commas", "id\0cb\0,,,\0s"),
    ("scope-upper", "id\0cb\0Read_Orders\0s"),
    ("scope-inner-space", "id\0cb\0read orders\0s"),
    ("scope-dash", "id\0cb\0read-orders\0s"),
    ("scope-vt", "id\0cb\0\x0bread_orders\0s"),
    ("many-scopes", "id\0cb\0" + ",".join(f"s{i}" for i in range(300)) + "\0s"),
    ("long-state", "id\0cb\0read_orders\0" + "\u00ff" * 2000),
]

SIG_B = "whsec-Default-Secret-1"
webhook = [
    ("json", SIG_B + '\0\0@W\0{"type":"order/created","data":{"id":42}}'),
    ("unpadded", "\0\0@W\0{\"a\":1}"),
    ("trailing-eq", "\0\0@W=\0{\"a\":1}"),
    ("ws", "\0\0 \t@W\t \0{\"a\":1}"),
    ("crlf", "\0\0@W\r\n\0{\"a\":1}"),
    ("internal-space", "\0\0@W \0body"),
    ("prefixed", "\0\0sha256=@W\0body"),
    ("comma", "\0\0@W,@W\0body"),
    ("previous", "new-Secret-2\0old-Secret-1\0@P\0{\"rotating\":true}"),
    ("previous-unpadded", "new-Secret-2\0old-Secret-1\0 @P\0x"),
    ("empty-body", "\0\0@W\0"),
    ("empty-header", "\0\0\0body"),
    ("hex", "\0\0" + "0" * 64 + "\0body"),
    ("urlsafe", "\0\0" + "-_" * 21 + "A=\0body"),
    ("nul-body", b"\0\0@W\0a\x00b\x00c"),
    ("binary-body", b"k3y\0\0@W\0" + bytes(range(256))),
    ("long-secret", "S" * 200 + "\0\0@W\0body"),
    ("utf8-secret", "s\u00e9cr\u00e8t\u20ac\0\0@W\0body"),
    ("garbage", "\0\0" + "A" * 43 + "=\0body"),
]

write("fuzz_callback", callback)
write("fuzz_token_response", token)
write("fuzz_graphql_response", graphql)
write("fuzz_error_body", error_body)
write("fuzz_consent_url", consent)
write("fuzz_webhook", webhook)
print("seeds written under", ROOT)
