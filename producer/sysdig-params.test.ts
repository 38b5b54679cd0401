import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseEventTable, splitEventArgs } from './sysdig-params.js'

const LISTING = [
  '> open(FSPATH name, FLAGS32 flags, UINT32 mode)',
  '< open(FD fd, FSPATH name, FLAGS32 flags, UINT32 mode, UINT32 dev)',
  '> read(FD fd, UINT32 size)',
  '< read(ERRNO res, BYTEBUF data)',
  '< mmap(UINT64 res, UINT32 vm_size, UINT32 vm_rss, UINT32 vm_swap)',
  '< execve(ERRNO res, CHARBUF exe, BYTEBUF args, PID tid, CHARBUF cwd)',
  '< execve(ERRNO res, CHARBUF exe, BYTEBUF args, PID tid, CHARBUF cwd, BYTEBUF env, INT32 tty)',
  '> pluginevent(UINT32 plugin ID, BYTEBUF event_data)',
  '> clone()',
  'not an event line',
].join('\n')

const table = parseEventTable(LISTING)

describe('parseEventTable', () => {
  test('keeps every version of an event, longest first', () => {
    const versions = table.get('<execve')

    assert.equal(versions?.length, 2)
    assert.equal(versions?.[0].length, 7)
    assert.equal(versions?.[1].length, 5)
  })

  test('reads parameter names that contain a space', () => {
    assert.deepEqual(table.get('>pluginevent')?.[0][0], { type: 'UINT32', name: 'plugin ID' })
  })

  test('reads events without parameters as an empty list', () => {
    assert.deepEqual(table.get('>clone'), [[]])
  })
})

describe('splitEventArgs', () => {
  test('separates raw and formatted values of fds and flags', () => {
    const text =
      'fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) ' +
      'mode=0 dev=803 '

    const params = splitEventArgs(table, '<', 'open', text)

    assert.deepEqual(params.get('fd'), { formatted: '<f>/etc/ld.so.cache', raw: '3' })
    assert.deepEqual(params.get('flags'), { formatted: 'O_RDONLY|O_CLOEXEC', raw: '4097' })
    assert.deepEqual(params.get('mode'), { formatted: '0', raw: '0' })
  })

  test('turns hexadecimal and octal integers into decimal raw values', () => {
    const open = splitEventArgs(table, '<', 'open', 'fd=3(<f>/tmp/t) name=/tmp/t mode=0666 dev=2D ')
    const mmap = splitEventArgs(table, '<', 'mmap', 'res=7FAD48782000 vm_size=368 ')

    assert.deepEqual(open.get('mode'), { formatted: '0666', raw: '438' })
    assert.deepEqual(open.get('dev'), { formatted: '2D', raw: '45' })
    assert.deepEqual(mmap.get('res'), { formatted: '7FAD48782000', raw: '140382221901824' })
    assert.deepEqual(mmap.get('vm_size'), { formatted: '368', raw: '368' })
  })

  test('reads errno names and keeps negative raw values', () => {
    const params = splitEventArgs(table, '<', 'read', 'res=-11(EAGAIN) data= ')

    assert.deepEqual(params.get('res'), { formatted: 'EAGAIN', raw: '-11' })
    assert.deepEqual(params.get('data'), { formatted: '', raw: '' })
  })

  test('keeps spaces and equal signs inside values', () => {
    const text =
      'res=0 exe=bash args=-c.echo a=b c. tid=7(bash) cwd=/home/x y env=A=1.B=2 3. tty=34816 '

    const params = splitEventArgs(table, '<', 'execve', text)

    assert.equal(params.get('args')?.formatted, '-c.echo a=b c.')
    assert.equal(params.get('cwd')?.formatted, '/home/x y')
    assert.equal(params.get('env')?.formatted, 'A=1.B=2 3.')
    assert.deepEqual(params.get('tty'), { formatted: '34816', raw: '34816' })
  })

  test('matches an older layout that prints fewer parameters', () => {
    const params = splitEventArgs(table, '<', 'execve', 'res=0 exe=ls args= tid=9(ls) cwd=/ ')

    assert.deepEqual([...params.keys()], ['res', 'exe', 'args', 'tid', 'cwd'])
    assert.deepEqual(params.get('tid'), { formatted: 'ls', raw: '9' })
  })

  test('cuts events missing from the table before every name=', () => {
    const params = splitEventArgs(table, '<', 'madeup', 'res=0 path=/a b=1 ')

    assert.deepEqual([...params.keys()], ['res', 'path', 'b'])
    assert.equal(params.get('path')?.raw, '/a')
  })

  test('returns no parameters for empty text', () => {
    assert.equal(splitEventArgs(table, '>', 'open', '').size, 0)
  })
})
