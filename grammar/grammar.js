/**
 * Dockwright tree-sitter grammar for Dockerfiles.
 *
 * Line structure (instruction extents, continuations, comments, parser
 * directives, heredoc bodies, exec-versus-shell form) is decided by the
 * external scanner in src/scanner.c, which follows BuildKit's parser rules.
 * The grammar below describes the structure inside each instruction.
 * See README.md for the node reference.
 */

/* Instruction keywords, in the order the scanner's token enum expects. */
const KEYWORDS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM',
  'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL',
  'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

const kw = ($, name) =>
  field('keyword', alias($['_kw_' + name.toLowerCase()], name));

/*
 * repeat1(rule) / repeat(rule) whose first `n` elements need no helper node.
 * A `repeat` builds a hidden node per extra element (two per element when
 * the element is a seq), and each node is one more parser reduction, which
 * dominates parse time; short lists are the common case.
 */
const many1 = (rule, n) =>
  n <= 1 ? seq(rule, repeat(rule)) : seq(rule, optional(many1(rule, n - 1)));
const many = (rule, n) => optional(many1(rule, n));

/* 1 to n copies of rule in a row, as alternatives (for chunked lists). */
const upTo = (rule, n) =>
  choice(...Array.from({length: n}, (_, k) => seq(...Array(k + 1).fill(rule))));
const CHUNK = 8;

/* The rest of the line as `node`: one scanner token when it is plain text
 * (see _word), else the pieces. */
const rest = ($, node) =>
  choice(alias($._plain_rest, node), alias($._rest, node));

/* Leading flags; a lone `--` ends them (BuildKit's extractBuilderFlags),
 * so a later `--x` is an argument. */
const flags = ($) => seq(many($.flag, 3), optional(alias($._flags_end, '--')));

/* A pair's `=` and optional value.  The value must start right after the
 * `=` (one token with it, or the zero-width glue across a continuation):
 * after a blank BuildKit's value is empty and the next word is the next
 * pair (`ENV A= B=2`). */
const eqValue = ($, name) => choice(
  seq(alias($._flag_eq_value, '='), field(name, $._word)),
  seq($._pair_eq, optional(seq($._concat, field(name, $._word)))),
);

/* Case-insensitive literal as a regex. */
const ci = (word) =>
  new RegExp(word.split('').map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join(''));

module.exports = grammar({
  name: 'dockerfile',

  externals: ($) => [
    $._eol,
    $._eof,
    $.line_continuation,
    $.comment,
    $._comment_nl,
    $._directive_start,
    ...KEYWORDS.map((k) => $['_kw_' + k.toLowerCase()]),
    $.unknown_keyword,
    $._flag_start,
    $._json_start,
    $._not_json,
    $.json_non_string,
    $._shell_fragment,
    $.heredoc_marker,
    $._heredoc_nl,
    $._heredoc_content,
    $.heredoc_end,
    $.escape_sequence,
    $._other_char,
    $._dollar,
    $._dollar_brace,
    $._lone_dollar,
    $._concat,
    $._image_concat,
    $._image_name_text,
    $._heredoc_unterminated,
    $._plain_word,
    $._plain_rest,
    $._flag_eq_value,
    $._flags_end,
    $._error_sentinel,
  ],

  // Hidden choices inlined: fewer reductions and tree nodes (parse speed).
  inline: ($) => [
    $._instruction,
    $._stage_instruction,
    $._word,
    $._path,
    $._piece,
    $._plain_piece,
    $._image_piece,
    $._tag_piece,
    $._json_element,
    $._env_key,
    $._label_key,
    $._exec_or_shell,
    $._copy_args,
    $._exec_form,
    $._heredoc_bodies,
  ],

  extras: ($) => [
    /[ \t\r\f\v\uFEFF]/,
    $.line_continuation,
    $.comment,
    $._comment_nl,
  ],

  rules: {
    source_file: ($) => seq(
      repeat(seq($.parser_directive, choice($._eol, $._eof))),
      optional(choice($._items, $._chunks, seq($._chunks, $._items))),
    ),
    // The top level is chunked so that an incremental reparse can reuse
    // whole chunks: tree-sitter reuses a subtree only whole, so with one
    // flat list every top-level item after an edit is re-shifted one by one
    // (and `repeat` nodes are fragile: REDUCE + SHIFT_REPEAT cells). Both
    // lists are left-recursive, so the part before an edit is one reusable
    // node and each chunk after it is one more.
    _chunks: ($) => prec.left(choice($._chunk, seq($._chunks, $._chunk))),
    // A chunk is the items up to and including a FROM line. Ending chunks
    // after a FROM line rather than before it matters: a reused subtree's
    // first token must have been lexed with the lookahead set the parser
    // has when it gets there. After a FROM line any item can follow, both
    // inside a chunk and after a reused one; a chunk starting at FROM would
    // have its FROM lexed inside the previous stage (any keyword valid) but
    // reached after a reused chunk (only FROM valid), and not be reused.
    _chunk: ($) => seq(
      optional($._items), $.from_instruction, choice($._eol, $._eof),
    ),
    // Items (instruction + line end, or blank lines) without a wrapper node
    // per item: one reduction per item instead of two (full-parse speed).
    _items: ($) => prec.left(choice(
      $._eol,
      seq($._stage_instruction, choice($._eol, $._eof)),
      seq($._items, $._eol),
      seq($._items, $._stage_instruction, choice($._eol, $._eof)),
    )),

    // ------------------------------------------------------------------
    // Parser directives
    parser_directive: ($) => seq(
      $._directive_start,
      '#',
      field('name', $.directive_name),
      '=',
      field('value', $.directive_value),
    ),
    directive_name: (_) => /[a-zA-Z][a-zA-Z0-9]*/,
    directive_value: (_) => /[^\s]([^\r\n]*[^\s])?/,

    // ------------------------------------------------------------------
    // Instructions
    _instruction: ($) => choice($.from_instruction, $._stage_instruction),
    // Every instruction but FROM (which starts a stage).
    _stage_instruction: ($) => choice(
      $.run_instruction,
      $.cmd_instruction,
      $.label_instruction,
      $.maintainer_instruction,
      $.expose_instruction,
      $.env_instruction,
      $.add_instruction,
      $.copy_instruction,
      $.entrypoint_instruction,
      $.volume_instruction,
      $.user_instruction,
      $.workdir_instruction,
      $.arg_instruction,
      $.onbuild_instruction,
      $.stopsignal_instruction,
      $.healthcheck_instruction,
      $.shell_instruction,
      $.unknown_instruction,
    ),

    from_instruction: ($) => seq(
      kw($, 'FROM'),
      flags($),
      optional(seq(
        field('image', $.image_spec),
        optional(seq(
          alias(ci('as'), 'AS'),
          optional(field('as', alias($._nonblank, $.stage_name))),
        )),
      )),
    ),

    run_instruction: ($) => seq(
      kw($, 'RUN'),
      flags($),
      optional(choice(
        $._exec_form,
        seq($.shell_command, optional($._heredoc_bodies)),
      )),
    ),

    cmd_instruction: ($) => seq(kw($, 'CMD'), flags($), optional($._exec_or_shell)),
    entrypoint_instruction: ($) => seq(kw($, 'ENTRYPOINT'), flags($), optional($._exec_or_shell)),
    shell_instruction: ($) => seq(kw($, 'SHELL'), flags($), optional($._exec_or_shell)),

    healthcheck_instruction: ($) => seq(
      kw($, 'HEALTHCHECK'),
      flags($),
      optional(choice(
        field('type', alias(token(prec(1, ci('none'))), 'NONE')),
        seq(field('type', alias(token(prec(1, ci('cmd'))), 'CMD')), optional($._exec_or_shell)),
        // BuildKit parses any other word here and rejects it later
        seq(field('type', alias($._nonblank, $.healthcheck_type)), optional($._exec_or_shell)),
      )),
    ),

    // stage_name and healthcheck_type are the same token aliased: as two
    // rules with one regex, tree-sitter made a shared token wrapped in a
    // node per use (one more parser reduction each).
    _nonblank: (_) => /[^\s\\`]+/,

    label_instruction: ($) => seq(
      kw($, 'LABEL'),
      flags($),
      optional(choice(
        seq($.label_pair, many(choice($.label_pair, alias($._label_key_only, $.label_pair)), 3)),
        alias($._label_legacy, $.label_pair),
      )),
    ),
    label_pair: ($) => prec.right(seq(
      field('key', $._label_key),
      eqValue($, 'value'),
    )),
    _label_key_only: ($) => field('key', $._label_key),
    _label_legacy: ($) => seq(
      field('key', $._label_key),
      optional(field('value', rest($, $.unquoted_string))),
    ),
    _label_key: ($) => choice(
      alias($._key_text, $.label_key),
      $.variable_expansion,
      $.double_quoted_string,
      $.single_quoted_string,
    ),

    env_instruction: ($) => seq(
      kw($, 'ENV'),
      flags($),
      optional(choice(
        seq($.env_pair, many(choice($.env_pair, alias($._env_key_only, $.env_pair)), 3)),
        alias($._env_legacy, $.env_pair),
      )),
    ),
    env_pair: ($) => prec.right(seq(
      field('key', $._env_key),
      eqValue($, 'value'),
    )),
    _env_key_only: ($) => field('key', $._env_key),
    _env_legacy: ($) => seq(
      field('key', $._env_key),
      optional(field('value', rest($, $.unquoted_string))),
    ),
    _env_key: ($) => choice(
      alias($._key_text, $.variable_name),
      $.variable_expansion,
      $.double_quoted_string,
      $.single_quoted_string,
    ),

    arg_instruction: ($) => seq(
      kw($, 'ARG'),
      flags($),
      many($.arg_declaration, 3),
    ),
    arg_declaration: ($) => prec.right(seq(
      field('name', choice(alias($._key_text, $.variable_name), $.variable_expansion)),
      optional(eqValue($, 'default')),
    )),

    maintainer_instruction: ($) => seq(
      kw($, 'MAINTAINER'),
      flags($),
      optional(field('name', rest($, $.unquoted_string))),
    ),
    user_instruction: ($) => seq(
      kw($, 'USER'),
      flags($),
      optional(field('user', rest($, $.unquoted_string))),
    ),
    stopsignal_instruction: ($) => seq(
      kw($, 'STOPSIGNAL'),
      flags($),
      optional(field('signal', rest($, $.unquoted_string))),
    ),
    workdir_instruction: ($) => seq(
      kw($, 'WORKDIR'),
      flags($),
      optional(field('path', rest($, $.path))),
    ),

    expose_instruction: ($) => seq(
      kw($, 'EXPOSE'),
      flags($),
      many(choice(alias($._plain_word, $.expose_port), $.expose_port), 3),
    ),
    expose_port: ($) => seq($._piece, many(seq($._concat, $._piece), 2)),

    volume_instruction: ($) => seq(
      kw($, 'VOLUME'),
      flags($),
      optional(choice(
        $._exec_form,
        seq(optional($._not_json), many1($._path, 3)),
      )),
    ),

    copy_instruction: ($) => seq(kw($, 'COPY'), flags($), optional($._copy_args)),
    add_instruction: ($) => seq(kw($, 'ADD'), flags($), optional($._copy_args)),
    _copy_args: ($) => choice(
      $._exec_form,
      seq(
        optional($._not_json),
        // only 2 unrolled: each position has three alternatives (plain path
        // token, path, marker) and more doubled the parse table for ~0.2%
        many1(choice($._path, $.heredoc_marker), 2),
        optional($._heredoc_bodies),
      ),
    ),

    onbuild_instruction: ($) => seq(
      kw($, 'ONBUILD'),
      flags($),
      optional(field('instruction', $._instruction)),
    ),

    unknown_instruction: ($) => seq(
      field('keyword', $.unknown_keyword),
      flags($),
      optional(alias(repeat1($._shell_fragment), $.arguments)),
    ),

    // ------------------------------------------------------------------
    // Flags
    flag: ($) => prec.right(seq(
      $._flag_start,
      choice(
        seq(
          field('name', alias('mount', $.flag_name)),
          optional(seq($._flag_eq, optional(field('value', $.mount_param_list)))),
        ),
        seq(
          field('name', $.flag_name),
          // The value starts right after '=' (the zero-width glue): with a
          // blank in between BuildKit gives the flag an empty value and the
          // word is the next argument.
          optional(choice(
            // '=' with the value right after it, as one token (saves the
            // zero-width glue token)
            seq(alias($._flag_eq_value, '='), field('value', $._word)),
            seq($._flag_eq, optional(seq($._concat, field('value', $._word)))),
          )),
        ),
      ),
    )),
    flag_name: (_) => token.immediate(/[a-zA-Z0-9][a-zA-Z0-9_.-]*/),
    _flag_eq: (_) => token.immediate(prec(2, '=')),
    mount_param_list: ($) => seq($.mount_param, many(seq($._mount_comma, $.mount_param), 4)),
    _mount_comma: (_) => token.immediate(','),
    mount_param: ($) => prec.right(seq(
      field('key', $.mount_param_key),
      optional(seq($._flag_eq, optional(field('value', $.mount_param_value)))),
    )),
    mount_param_key: (_) => token.immediate(/[^\s=,\\`]+/),
    mount_param_value: (_) => token.immediate(/[^\s,\\`]+/),

    // ------------------------------------------------------------------
    // FROM image
    image_spec: ($) => seq(
      field('name', $.image_name),
      optional(seq(':', field('tag', $.image_tag))),
      optional(seq('@', field('digest', $.image_digest))),
    ),
    image_name: ($) => seq($._image_piece, many(seq($._image_concat, $._image_piece), 2)),
    _image_piece: ($) => choice(
      $._image_name_text,
      $.variable_expansion,
      $.escape_sequence,
      $._other_char,
      $._lone_dollar,
      $.double_quoted_string,
      $.single_quoted_string,
    ),
    image_tag: ($) => seq($._tag_piece, many(seq($._image_concat, $._tag_piece), 2)),
    _tag_piece: ($) => choice(
      $._tag_text,
      $.variable_expansion,
      $.escape_sequence,
      $._other_char,
      $._lone_dollar,
      $.double_quoted_string,
      $.single_quoted_string,
    ),
    _tag_text: (_) => /[^\s@"'$\\`]+/,
    image_digest: ($) => seq($._piece, many(seq($._image_concat, $._piece), 2)),

    // ------------------------------------------------------------------
    // Exec (JSON) form and shell form
    _exec_form: ($) => seq($._json_start, $.json_string_array),
    _exec_or_shell: ($) => choice(
      $._exec_form,
      alias($._plain_shell, $.shell_command),
    ),
    // Shell text is one fragment per line (a continuation, a child of
    // shell_command, ends a fragment), so long RUN commands are long lists.
    // They are built in chunks of up to CHUNK fragments per parser reduction
    // instead of one hidden repeat node per fragment (plus the runtime's
    // rebalancing of those nodes); a command of up to CHUNK fragments needs
    // no helper node at all.
    _plain_shell: ($) => seq(
      optional($._not_json),
      choice(prec(1, upTo($._shell_fragment, CHUNK)), $._fragment_list),
    ),
    _fragment_list: ($) => prec.right(choice(
      upTo($._shell_fragment, CHUNK),
      seq($._fragment_list, upTo($._shell_fragment, CHUNK)),
    )),
    shell_command: ($) => seq(
      optional($._not_json),
      choice(
        prec(1, choice(upTo($._shell_fragment, CHUNK), $.heredoc_marker)),
        $._shell_list,
      ),
    ),
    // Like _fragment_list, with heredoc markers.
    _shell_list: ($) => prec.right(choice(
      upTo($._shell_fragment, CHUNK),
      $.heredoc_marker,
      seq($._shell_list, upTo($._shell_fragment, CHUNK)),
      seq($._shell_list, $.heredoc_marker),
    )),

    json_string_array: ($) => seq(
      '[',
      optional(seq($._json_element, many(seq(',', $._json_element), 4))),
      ']',
    ),
    _json_element: ($) => choice($.json_string, $.json_non_string),
    json_string: (_) => /"([^"\\\r\n]|\\[^\r\n])*"/,

    // ------------------------------------------------------------------
    // Heredocs
    _heredoc_bodies: ($) => many1(seq($._heredoc_nl, $.heredoc_body), 2),
    heredoc_body: ($) => seq(optional($._heredoc_content), $.heredoc_end),

    // ------------------------------------------------------------------
    // Words
    path: ($) => seq($._piece, many(seq($._concat, $._piece), 2)),

    // A word that is a single plain text piece is one scanner token aliased
    // to the node (same tree; a node with one hidden child costs a parser
    // reduction, and most words are like this).
    _word: ($) => choice(
      alias($._plain_word, $.unquoted_string),
      $.unquoted_string,
      $.double_quoted_string,
      $.single_quoted_string,
    ),
    _path: ($) => choice(alias($._plain_word, $.path), $.path),
    unquoted_string: ($) => choice(
      seq($._plain_piece, many(seq($._concat, $._piece), 2)),
      seq(
        choice($.double_quoted_string, $.single_quoted_string),
        many1(seq($._concat, $._piece), 2),
      ),
    ),
    // The rest of the line as one value (legacy ENV/LABEL, USER, WORKDIR ...).
    _rest: ($) => many1($._piece, 3),

    _plain_piece: ($) => choice(
      $._text,
      $.escape_sequence,
      $._other_char,
      $._lone_dollar,
      $.variable_expansion,
    ),
    _piece: ($) => choice($._plain_piece, $.double_quoted_string, $.single_quoted_string),
    _text: (_) => /[^\s"'$\\`]+/,
    _key_text: (_) => /[^\s="'$\\`]+/,
    _pair_eq: (_) => token.immediate(prec(2, '=')),

    double_quoted_string: ($) => seq(
      '"',
      repeat(choice(
        $._dq_text,
        $.escape_sequence,
        $._other_char,
        $._lone_dollar,
        $.variable_expansion,
      )),
      '"',
    ),
    _dq_text: (_) => token.immediate(prec(1, /[^"$\\`\r\n]+/)),
    // A missing closing quote is tolerated (BuildKit's parser does too; the
    // error comes when the word is expanded).
    single_quoted_string: (_) => /'[^'\r\n]*'?/,

    variable_expansion: ($) => choice(
      seq(alias($._dollar, '$'), field('name', alias($._var_name, $.variable_name))),
      seq(
        alias($._dollar_brace, '${'),
        field('name', alias($._var_name, $.variable_name)),
        optional(seq(
          field('operator', $.expansion_operator),
          optional(field('argument', $.expansion_argument)),
        )),
        '}',
      ),
    ),
    _var_name: (_) => token.immediate(/[a-zA-Z_][a-zA-Z0-9_]*|[0-9]+|[@*#?$!-]/),
    expansion_operator: (_) => token.immediate(choice(
      ':-', '-', ':+', '+', ':?', '?', '#', '##', '%', '%%', '/', '//',
    )),
    expansion_argument: ($) => repeat1(choice(
      $._arg_text,
      $.escape_sequence,
      $._other_char,
      $._lone_dollar,
      $.variable_expansion,
      $.double_quoted_string,
      $.single_quoted_string,
    )),
    _arg_text: (_) => token.immediate(prec(1, /[^}$"'\\`\r\n]+/)),
  },
});
