/**
 * Finds promises nobody waits for in the server's code: a call whose result is a Promise, used as a statement
 * without `await`, `void`, `return` or `.then/.catch`, or as the value of an object's property (an answer's `data`). The database layer is asynchronous, so a forgotten `await`
 * would let a request answer before its write (or lose the write's error). Run by `npm run typecheck`.
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = ts.getParsedCommandLineOfConfigFile(`${root}/tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
const program = ts.createProgram(config.fileNames, config.options);
const checker = program.getTypeChecker();
const problems: string[] = [];

function isPromise(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(isPromise);
  return type.getSymbol()?.getName() === 'Promise';
}

/** `.catch(…)` and `.then(onDone, onError)` handle the rejection themselves. */
function handlesRejection(call: ts.CallExpression): boolean {
  if (!ts.isPropertyAccessExpression(call.expression)) return false;
  const method = call.expression.name.text;
  return method === 'catch' || (method === 'then' && call.arguments.length === 2);
}

for (const file of program.getSourceFiles()) {
  if (!file.fileName.includes('/packages/server/src/') && !file.fileName.includes('/packages/cli/src/')) continue;
  const visit = (node: ts.Node) => {
    if (ts.isExpressionStatement(node)) {
      const expression = node.expression;
      if (ts.isCallExpression(expression) && !handlesRejection(expression) && isPromise(checker.getTypeAtLocation(expression))) {
        const { line } = file.getLineAndCharacterOfPosition(node.getStart());
        problems.push(`${file.fileName.slice(root.length)}:${line + 1}: a promise nobody waits for: ${node.getText().slice(0, 100)}`);
      }
    }
    // `{ data: service.call() }` or `{ ...service.call() }`: a promise put in an answer is sent as `{}`.
    const value = ts.isPropertyAssignment(node) ? node.initializer : ts.isSpreadAssignment(node) ? node.expression : null;
    if (value && ts.isCallExpression(value) && isPromise(checker.getTypeAtLocation(value))) {
      const { line } = file.getLineAndCharacterOfPosition(node.getStart());
      problems.push(`${file.fileName.slice(root.length)}:${line + 1}: a promise as a property's value: ${node.getText().slice(0, 100)}`);
    }
    // `const job = service.get(…)` then `if (!job)`: a promise kept in a variable is always truthy. One that is
    // meant to be kept (awaited later) says so in its name.
    if (ts.isVariableDeclaration(node) && node.initializer && ts.isCallExpression(node.initializer) && ts.isIdentifier(node.name)
      && !/(promise|pending|run|running|started|ready|stopped|exited|done|reading)$/i.test(node.name.text)
      && isPromise(checker.getTypeAtLocation(node.initializer))) {
      const { line } = file.getLineAndCharacterOfPosition(node.getStart());
      problems.push(`${file.fileName.slice(root.length)}:${line + 1}: a promise kept in a variable (await it, or name it …Promise): ${node.getText().slice(0, 100)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
