#!/usr/bin/env python3
"""make_bad_pt.py -- hostile and broken .pt files for tests/io/pt_import.sh, made at
test time with Python's own pickle and zipfile (no torch).

usage: make_bad_pt.py GOOD.pt OUTDIR MARKER
  GOOD.pt  a valid .pt (a committed fixture) to damage
  MARKER   a path that a pickle which ran its payload would create

Each OUTDIR/NAME.pt comes with the start of the message dyolo must print in
OUTDIR/NAME.expect (an extended regular expression).
"""
import collections
import io
import os
import pickle
import subprocess
import sys
import types
import zipfile


# ---- a torch look-alike, so that pickle writes the globals a real .pt holds ----
def _fake_module(name, **attrs):
    m = types.ModuleType(name)
    for k, v in attrs.items():
        if isinstance(v, type) or callable(v):
            v.__module__, v.__qualname__ = name, k
        setattr(m, k, v)
    sys.modules[name] = m
    return m


class HalfStorage:
    pass


class FloatStorage:
    pass


def _rebuild_tensor_v2(*args):
    raise AssertionError('never called')


class Conv:  # models.common.Conv: a module as an attribute dictionary
    pass


_fake_module('torch', HalfStorage=HalfStorage, FloatStorage=FloatStorage)
_fake_module('torch._utils', _rebuild_tensor_v2=_rebuild_tensor_v2)
_fake_module('models')
_fake_module('models.common', Conv=Conv)


class Storage:
    def __init__(self, key, numel, cls=FloatStorage):
        self.key, self.numel, self.cls = key, numel, cls


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ('storage', obj.cls, obj.key, 'cpu', obj.numel)
        return None


def dumps(obj, protocol=2):
    f = io.BytesIO()
    TorchPickler(f, protocol=protocol).dump(obj)
    return f.getvalue()


def write_pt(path, pkl, storages=None, prefix='archive', version=b'3\n'):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(prefix + '/data.pkl', pkl)
        for k, v in (storages or {}).items():
            z.writestr(prefix + '/data/' + k, v)
        if version is not None:
            z.writestr(prefix + '/version', version)


class Evil:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def main(good, out, marker):
    os.makedirs(out, exist_ok=True)
    cases = {}

    def case(name, expect, pkl=None, storages=None, raw=None):
        path = os.path.join(out, name + '.pt')
        if raw is not None:
            with open(path, 'wb') as f:
                f.write(raw)
        else:
            write_pt(path, pkl, storages)
        cases[name] = expect

    cmd = 'touch ' + marker
    # Code execution attempts: each names the refused global.
    case('posix_system', r'refused global posix\.system', dumps({'model': Evil(os.system, cmd)}))
    case('os_system', r'refused global os\.system',
         b'\x80\x02cos\nsystem\nq\x00X' + len(cmd).to_bytes(4, 'little') + cmd.encode() + b'\x85R.')
    case('builtins_eval', r'refused global builtins\.eval',
         dumps({'ema': Evil(eval, "__import__('os').system('%s')" % cmd)}, protocol=4))
    case('subprocess', r'refused global subprocess\.check_output',
         dumps(Evil(subprocess.check_output, ['touch', marker]), protocol=4))
    case('getattr', r'refused global builtins\.getattr', dumps(Evil(getattr, 'os', 'system'), protocol=4))
    # An allowed name used where only a storage type may appear.
    st = Storage('0', 4)
    case('inst_opcode', r'opcode not allowed in a checkpoint: 0x69',
         b'(ios\nsystem\nX' + len(cmd).to_bytes(4, 'little') + cmd.encode() + b'.')
    # Tensors that point outside their storage or have impossible shapes.
    case('bad_offset', r'tensor reaches beyond its storage',
         dumps(collections.OrderedDict([('model.0.conv.weight', Tensor(st, 3, [2], [1]))])), {'0': b'\0' * 16})
    case('neg_shape', r'negative size', dumps(collections.OrderedDict([('w', Tensor(st, 0, [-1, 4], [4, 1]))])),
         {'0': b'\0' * 16})
    case('huge_shape', r'element count overflows',
         dumps(collections.OrderedDict([('w', Tensor(st, 0, [1 << 40, 1 << 40], [0, 0]))])), {'0': b'\0' * 16})
    big = Storage('0', 1 << 40)
    case('short_storage', r'storage 0 of tensor "model\.0\.conv\.weight" holds 16 bytes',
         dumps(collections.OrderedDict([('model.0.conv.weight', Tensor(big, 0, [4], [1]))])), {'0': b'\0' * 16})
    case('storage_key', r'storage key that is not a plain name',
         dumps(collections.OrderedDict([('w', Tensor(Storage('../../etc/passwd', 4), 0, [4], [1]))])))
    # Nesting and size limits.
    case('deep_marks', r'nesting deeper than the limit', b'\x80\x02' + b'(' * 100000 + b'.')
    case('deep_stack', r'stack deeper than the limit', b'\x80\x02' + b']' * 300000 + b'.')
    case('memo_index', r'memo index over the limit', b'\x80\x02Nr\xff\xff\xff\xff.')
    loop = Conv()
    loop.__dict__ = {'_parameters': collections.OrderedDict(), '_buffers': collections.OrderedDict(),
                     '_modules': collections.OrderedDict()}
    loop._modules['m'] = loop
    case('module_cycle', r'modules nested deeper than', dumps({'model': loop}))
    # Broken containers.
    data = open(good, 'rb').read()
    case('truncated', r'not a readable \.pt archive', raw=data[:len(data) // 2])
    case('not_zip', r'not a readable \.pt archive', raw=b'hello, I am not a checkpoint\n' * 10)
    case('legacy', r'legacy \(torch < 1\.6\)', raw=b'\x80\x02\x8a\x0a' + b'\0' * 100)
    with zipfile.ZipFile(good) as z:
        infos = z.infolist()
        stor = [i for i in infos if '/data/' in i.filename and i.file_size >= 64]
        victim = stor[len(stor) // 2]
        # Wrong CRC: flip a byte inside a stored (uncompressed) storage entry.
        raw = bytearray(data)
        with open(good, 'rb') as f:
            f.seek(victim.header_offset + 26)
            n, m = int.from_bytes(f.read(2), 'little'), int.from_bytes(f.read(2), 'little')
        pos = victim.header_offset + 30 + n + m + victim.file_size // 2
        raw[pos] ^= 0xff
        case('bad_crc', r'CRC error', raw=bytes(raw))
        # A storage the pickle names is missing from the archive.
        path = os.path.join(out, 'missing_storage.pt')
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as w:
            for i in infos:
                if i.filename != victim.filename:
                    w.writestr(i.filename, z.read(i.filename))
        cases['missing_storage'] = r'has no entry "[^"]*/data/%s"' % victim.filename.rsplit('/', 1)[1]
        # No version record.
        path = os.path.join(out, 'no_version.pt')
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as w:
            for i in infos:
                if not i.filename.endswith('/version'):
                    w.writestr(i.filename, z.read(i.filename))
        cases['no_version'] = r'has no entry "[^"]*/version"'
    for name, expect in cases.items():
        with open(os.path.join(out, name + '.expect'), 'w') as f:
            f.write(expect + '\n')
    print(' '.join(sorted(cases)))


if __name__ == '__main__':
    main(*sys.argv[1:4])
