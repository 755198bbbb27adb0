// Type of table-ownership.js for its RuleTester test.
import type { Rule } from 'eslint';
declare const rule: Rule.RuleModule;
export default rule;
