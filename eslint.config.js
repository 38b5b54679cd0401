import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    noStyle: true,
    ignores: [...resolveIgnoresFromGitignore(), 'dist/**'],
  }),
  {
    // Prettier breaks long single-statement ifs over lines, which this rule then flags.
    rules: { curly: 'off' },
  },
]
