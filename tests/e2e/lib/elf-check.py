#!/usr/bin/python3
"""Check that a file is a statically linked 64-bit little-endian Linux ELF
executable for one machine, from its ELF header and program headers (no
readelf or file(1) needed).

Usage: elf-check.py FILE MACHINE
  MACHINE is e_machine as a number (62 x86-64, 183 AArch64).

Prints one line, "ok: <what it is>" or "not ok: <what is wrong>", and exits
0 or 1.
"""

import struct
import sys

MACHINES = {3: 'i386', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V'}
PT_DYNAMIC = 2
PT_INTERP = 3
ET_EXEC = 2
ET_DYN = 3


def check(path, want):
    """Return (True, what the file is) or (False, what is wrong)."""
    with open(path, 'rb') as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b'\x7fELF':
            return False, 'not an ELF file (no \\x7fELF magic)'
        if head[4] != 2 or head[5] != 1:
            return False, 'not a 64-bit little-endian ELF (EI_CLASS %d, EI_DATA %d)' % (head[4], head[5])
        e_type, e_machine = struct.unpack_from('<HH', head, 16)
        e_phoff, = struct.unpack_from('<Q', head, 32)
        e_phentsize, e_phnum = struct.unpack_from('<HH', head, 54)
        problems = []
        if e_machine != want:
            problems.append('e_machine is %d (%s), not %d (%s)' % (
                e_machine, MACHINES.get(e_machine, '?'), want, MACHINES.get(want, '?')))
        if e_type not in (ET_EXEC, ET_DYN):
            problems.append('e_type is %d, not an executable' % e_type)
        f.seek(e_phoff)
        table = f.read(e_phentsize * e_phnum)
        kinds = [struct.unpack_from('<I', table, i * e_phentsize)[0] for i in range(e_phnum)]
        if PT_INTERP in kinds:
            problems.append('dynamically linked (has a PT_INTERP program header)')
        if PT_DYNAMIC in kinds:
            problems.append('has a PT_DYNAMIC program header (needs the dynamic loader)')
        if problems:
            return False, '; '.join(problems)
        return True, 'ELF64 LSB executable, e_machine %d (%s), statically linked' % (
            e_machine, MACHINES.get(e_machine, '?'))


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip())
    try:
        ok, text = check(argv[1], int(argv[2]))
    except OSError as e:
        ok, text = False, str(e)
    print(('ok: ' if ok else 'not ok: ') + text)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
