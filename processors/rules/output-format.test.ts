import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { syscallEvent } from './event-fixture.js'
import type { LoadWarningCode } from './load-problem.js'
import { OutputFormat, OutputFormatError } from './output-format.js'

function render(format: string, event = syscallEvent()) {
  return new OutputFormat(format, () => {}).format(event)
}

describe('output format', () => {
  it('fills fields, field arguments and dotted arguments', () => {
    const output = render('%proc.name by %user.name under %proc.aname[2] flags=%evt.arg.flags')

    assert.equal(output.text, 'cat by root under sshd flags=O_RDONLY')
    assert.deepEqual(output.fields, {
      'proc.name': 'cat',
      'user.name': 'root',
      'proc.aname[2]': 'sshd',
      'evt.arg.flags': 'O_RDONLY',
    })
  })

  it('keeps the type of numbers and booleans in output fields', () => {
    const output = render('%fd.num %evt.rawtime %evt.is_open_read %user.loginuid')

    assert.equal(output.text, '3 1700000000726060287 true 1000')
    assert.strictEqual(output.fields['fd.num'], 3)
    assert.strictEqual(output.fields['evt.rawtime'], 1700000000726060287n)
    assert.strictEqual(output.fields['evt.is_open_read'], true)
  })

  it('prints <NA> for missing values and null in output fields', () => {
    const output = render('(cport=%fd.cport command=%proc.cmdline)')

    assert.equal(output.text, '(cport=<NA> command=cat /etc/hosts)')
    assert.strictEqual(output.fields['fd.cport'], null)
  })

  it('pads or cuts values to a given width', () => {
    assert.equal(render('[%6proc.name]').text, '[cat   ]')
    assert.equal(render('[%2proc.name]').text, '[ca]')
  })

  it('keeps a percent sign that starts no token', () => {
    assert.equal(render('100% of %proc.name, 50%% more').text, '100% of cat, 50% more')
  })

  it('stops a field name before a trailing dot', () => {
    assert.equal(render('user is %user.name.').text, 'user is root.')
  })

  it('applies transformers', () => {
    const output = render('%toupper(proc.name)')

    assert.equal(output.text, 'CAT')
    assert.equal(output.fields['toupper(proc.name)'], 'CAT')
  })

  it('prints nothing for %container.info and warns that it is deprecated', () => {
    const warnings: LoadWarningCode[] = []
    const format = new OutputFormat('shell %container.info in %container.id', (code) => {
      warnings.push(code)
    })

    const output = format.format(syscallEvent())

    assert.equal(output.text, 'shell  in host')
    assert.deepEqual(warnings, ['LOAD_DEPRECATED_ITEM'])
  })

  it('rejects unknown fields and names without a class', () => {
    assert.throws(() => render('%proc.nothing'), OutputFormatError)
    assert.throws(() => render('%not_a_real_field'), /invalid formatting token not_a_real_field/)
  })

  it('turns line breaks of the format into spaces', () => {
    assert.equal(render('first line\nsecond %proc.name\n').text, 'first line second cat')
  })

  it('prints multi-valued fields joined by commas', () => {
    assert.equal(render('%proc.aname').text, 'bash,sshd,systemd')
  })
})

describe('output escaping', () => {
  const cases: [string, string, string][] = [
    ['line breaks', 'evil\nFAKE ALERT\r', 'evil\\nFAKE ALERT\\r'],
    ['tabs and escape codes', 'a\tb\u001b[31mred', 'a\\tb\\x1b[31mred'],
    ['NUL and DEL', 'a\u0000b\u007f', 'a\\x00b\\x7f'],
    ['C1 controls', 'a\u0085b', 'a\\x85b'],
    ['bidirectional overrides', 'txt\u202Egpj.exe', 'txt\\u{202E}gpj.exe'],
    ['line separators', 'a\u2028b', 'a\\u{2028}b'],
    ['lone surrogates', 'a\uD800b', 'a\\u{D800}b'],
    ['backslashes', 'C:\\x0a', 'C:\\\\x0a'],
  ]
  for (const [what, value, expected] of cases) {
    it(`escapes ${what} in values`, () => {
      const event = syscallEvent({ proc: { args: [value] } })

      const output = render('args=%proc.args', event)

      assert.equal(output.text, `args=${expected}`)
      assert.equal(output.text.split('\n').length, 1)
      assert.equal(output.fields['proc.args'], value)
    })
  }

  it('keeps printable non-ASCII text as it is', () => {
    const event = syscallEvent({ proc: { args: ['café 漢字 🚀'] } })

    assert.equal(render('%proc.args', event).text, 'café 漢字 🚀')
  })
})
