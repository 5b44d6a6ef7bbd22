"""hello-py: the reference Python plugin of the test suite.

It has the handlers of hello-c (testdata/wasm/hello-c), with byte-identical
results, and a few of its own:

  on_load       prints "hello-py: loaded", logs "on-load called" at info
  on_unload     prints "hello-py: unloaded"
  greet         "<greeting>, <input>!"; greeting from config, "Hello" if unset
  echo          the input bytes unchanged
  fail          err "fail: <input>"
  empty         ok, 0 bytes
  call-host     host_call(name = input, payload = "ping"): the ok payload, or
                "error: <message>" as ok bytes
  count-vowels  the decimal count of [aeiouAEIOU] in the input
  add           JSON: {"a": x, "b": y} -> {"sum": x + y}
  boom          raises ValueError("boom: <input>") two frames down
  stdlib        JSON summary of the input through json, re, math, hashlib, datetime
"""
import datetime
import hashlib
import json
import math
import re

import vitte_plugin as vp


def on_load():
    print("hello-py: loaded")
    vp.log.info("on-load called")


def on_unload():
    print("hello-py: unloaded")


@vp.export
def greet(data):
    greeting = vp.config("greeting", "Hello")
    return greeting.encode() + b", " + data + b"!"


@vp.export
def echo(data):
    return data


@vp.export
def fail(data):
    raise vp.Error("fail: " + data.decode("utf-8"))


@vp.export
def empty(data):
    return None


@vp.export(name="call-host")
def call_host(data):
    try:
        return vp.host_call(data.decode("utf-8"), b"ping")
    except vp.HostError as e:
        return "error: " + str(e)


@vp.export(name="count-vowels")
def count_vowels(data):
    return str(sum(data.count(v) for v in b"aeiouAEIOU"))


@vp.export(json=True)
def add(args):
    return {"sum": args["a"] + args["b"]}


def _check(text):
    raise ValueError("boom: " + text)


@vp.export
def boom(data):
    _check(data.decode("utf-8"))


@vp.export
def stdlib(data):
    text = data.decode("utf-8")
    words = re.findall(r"\w+", text)
    when = datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=len(words))
    return json.dumps(
        {
            "words": words,
            "sha256": hashlib.sha256(data).hexdigest(),
            "md5": hashlib.md5(data).hexdigest(),
            "sqrt": math.sqrt(len(data)),
            "date": when.isoformat(),
        },
        sort_keys=True,
    )
