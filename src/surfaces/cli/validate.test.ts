// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Finding } from './validate.js';
import { validateCommand } from './validate.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await validateCommand(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

async function findings(...args: string[]): Promise<Finding[]> {
  const { stdout } = await cli('--format', 'json', ...args);
  return (JSON.parse(stdout) as { findings: Finding[] }).findings;
}

const VALID_JSON = `{
  "StartAt": "A",
  "States": {
    "A": { "Type": "Pass", "End": true }
  }
}
`;

const INVALID_JSON = `{
  "StartAt": "A",
  "States": {
    "A": {
      "Type": "Pass",
      "Next": "Missing"
    },
    "B": { "Type": "Succeed" }
  }
}
`;

describe('stepwise validate', () => {
  it('exits 0 on a valid JSON definition', async () => {
    const r = await cli(file('ok.asl.json', VALID_JSON));
    assert.equal(r.code, 0);
    assert.match(r.stdout, /1 file, 1 definition: 0 errors, 0 warnings/);
  });

  it('prints file:line:column, severity, code, message and pointer for a JSON file', async () => {
    const path = file('bad.asl.json', INVALID_JSON);
    const r = await cli(path);
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n');
    assert.equal(
      lines[0],
      `${path}:6:7: ERROR MISSING_TRANSITION_TARGET Missing 'Next' target: Missing (at /States/A/Next)`,
    );
    assert.match(lines[1]!, /^ {2}hint: /);
    // Reachability is not judged through a dangling transition: no echo about B.
    assert.match(r.stdout, /1 file, 1 definition: 1 error, 0 warnings/);
  });

  it('reports duplicate state names that JSON.parse would hide', async () => {
    const path = file(
      'dup.asl.json',
      '{"StartAt":"A","States":{\n"A":{"Type":"Succeed"},\n"A":{"Type":"Succeed"}}}\n',
    );
    const f = await findings(path);
    assert.deepEqual(
      f.map((x) => [x.code, x.line]),
      [['DUPLICATE_STATE_NAME', 3]],
    );
  });

  it('validates YAML with positions (and YAML 1.2 strings such as Yes:)', async () => {
    const path = file(
      'flow.asl.yaml',
      [
        'StartAt: Ask',
        'States:',
        '  Ask:',
        '    Type: Choice',
        '    Choices:',
        '      - Variable: $.answer',
        '        BooleanEquals: true',
        '        Next: Yes',
        '    Default: No',
        '  Yes:',
        '    Type: Succeed',
        '  No:',
        '    Type: Wait',
        '    Timestamp: tomorrow',
        '    End: true',
        '',
      ].join('\n'),
    );
    const f = await findings(path);
    assert.deepEqual(
      f.map((x) => [x.line, x.column, x.code, x.location]),
      [[14, 5, 'SCHEMA_VALIDATION_FAILED', '/States/No/Timestamp']],
    );
    assert.equal((await cli(path)).code, 1);
  });

  it('validates the state machines of a SAM template with !Sub and DefinitionSubstitutions', async () => {
    const path = file(
      'template.yaml',
      [
        "AWSTemplateFormatVersion: '2010-09-09'",
        'Transform: AWS::Serverless-2016-10-31',
        'Resources:',
        '  Fn:',
        '    Type: AWS::Serverless::Function',
        '  Machine:',
        '    Type: AWS::Serverless::StateMachine',
        '    Properties:',
        '      Type: EXPRESS',
        '      DefinitionSubstitutions:',
        '        FnArn: !GetAtt Fn.Arn',
        '        Delay: 5',
        '      Definition:',
        '        StartAt: Call',
        '        States:',
        '          Call:',
        '            Type: Task',
        '            Resource: ${FnArn}',
        '            Next: Sleep',
        '          Sleep:',
        '            Type: Wait',
        '            Seconds: ${Delay}',
        '            Next: Callback',
        '          Callback:',
        '            Type: Task',
        '            Resource: !Sub arn:${AWS::Partition}:states:::sqs:sendMessage.waitForTaskToken',
        '            End: true',
        '  Legacy:',
        '    Type: AWS::StepFunctions::StateMachine',
        '    Properties:',
        '      DefinitionString: !Sub |',
        '        {',
        '          "StartAt": "X",',
        '          "States": {',
        '            "X": { "Type": "Task", "Resource": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:f", "End": true },',
        '            "Y": { "Type": "Pass", "Next": "Nope" }',
        '          }',
        '        }',
        '',
      ].join('\n'),
    );
    const f = await findings(path);
    assert.deepEqual(
      f.map((x) => [x.resource, x.line, x.column, x.code, x.location]),
      [
        ['Machine', 26, 13, 'SCHEMA_VALIDATION_FAILED', '/States/Callback/Resource'],
        ['Legacy', 36, 36, 'MISSING_TRANSITION_TARGET', '/States/Y/Next'],
      ],
    );
    assert.match(f[0]!.message, /Express state machine does not support '\.waitForTaskToken'/);
  });

  it('applies --substitution values and warns about placeholders left unresolved', async () => {
    const path = file(
      'subs.asl.json',
      '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${Fn}","End":true}}}',
    );
    const unresolved = await findings(path);
    assert.deepEqual(
      unresolved.map((x) => [x.severity, x.code]),
      [
        ['ERROR', 'SCHEMA_VALIDATION_FAILED'],
        ['WARNING', 'UNRESOLVED_SUBSTITUTION'],
      ],
    );
    const r = await cli(path, '--substitution', 'Fn=arn:aws:lambda:us-east-1:123456789012:function:f');
    assert.equal(r.code, 0, r.stdout);
  });

  it('expands globs', async () => {
    file('g1.asl.json', VALID_JSON);
    file('g2.asl.json', VALID_JSON);
    const r = await cli(join(dir, 'g*.asl.json'));
    assert.equal(r.code, 0);
    assert.match(r.stdout, /2 files, 2 definitions/);
  });

  it('reports invalid JSON with its position', async () => {
    const path = file('broken.json', '{\n  "StartAt": "A",\n  "States": nope\n}\n');
    const f = await findings(path);
    assert.deepEqual(
      f.map((x) => [x.line, x.column, x.code]),
      [[3, 13, 'INVALID_JSON_DESCRIPTION']],
    );
  });

  it('exits 2 on bad usage', async () => {
    assert.equal((await cli()).code, 2);
    assert.equal((await cli('--format', 'xml', file('u.asl.json', VALID_JSON))).code, 2);
    assert.equal((await cli('--bogus')).code, 2);
    assert.equal((await cli(join(dir, 'does-not-exist.json'))).code, 2);
    assert.equal((await cli(join(dir, 'none-*.json'))).code, 2);
    assert.equal((await cli('--substitution', 'novalue', file('v.asl.json', VALID_JSON))).code, 2);
  });
});
