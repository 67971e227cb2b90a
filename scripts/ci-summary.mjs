// Prints the closing "N passed, N failed" line CI reads, from Vitest's JSON reports (Node/jsdom run, browser run).
import { readFileSync } from 'node:fs'

const args = process.argv.slice(2)
const status = Number(args.pop())
let passed = 0
let failed = 0
let skipped = 0
let reports = 0
const failures = []
for (const file of args) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'))
    for (const suite of report.testResults ?? []) {
      for (const test of suite.assertionResults ?? []) {
        if (test.status === 'failed') failures.push({ name: test.fullName ?? test.title, message: (test.failureMessages ?? []).join('\n') })
      }
      if (suite.status === 'failed' && (suite.assertionResults ?? []).every((test) => test.status !== 'failed')) {
        failures.push({ name: suite.name, message: suite.message ?? '' })
      }
    }
    passed += report.numPassedTests ?? 0
    failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0)
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
    reports += 1
  } catch {
    // A missing report means that run never happened (an earlier step failed); the exit status tells.
  }
}
// Checks that are not Vitest runs (e.g. the Next.js example), as `name:exitStatus` pairs.
for (const check of (process.env.EXTRA_CHECKS ?? '').split(/\s+/).filter(Boolean)) {
  if (Number(check.split(':')[1]) === 0) passed += 1
  else failed += 1
}
// A failure outside the test runner (install, typecheck, build) still fails the run.
if (status !== 0 && failed === 0) failed = 1
if (reports === 0 && failed === 0) failed = 1
// The failures again, short, just above the closing line: a reader of the end of a long log sees what failed and why
// (a fault case's message is long: its first lines say which rule broke).
for (const failure of failures.slice(0, 5)) {
  const lines = failure.message.split('\n').filter((line) => line.trim() !== '' && !/^\s+at /.test(line))
  console.log(`FAILED ${failure.name}\n  ${lines.slice(0, 8).map((line) => line.slice(0, 300)).join('\n  ')}`)
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
