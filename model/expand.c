/*
 * expand.c - BuildKit's shell-word expander (frontend/dockerfile/shell).
 *
 * The code follows BuildKit's lexer closely on purpose: Dockerfiles are
 * evaluated by BuildKit, so a "better" shell would be a wrong one.  The
 * places where BuildKit's behaviour is surprising are kept and commented.
 *
 * Text model.  BuildKit reads the word as Go runes: an invalid UTF-8 byte
 * becomes U+FFFD (one per byte) and a leading byte-order mark is skipped.
 * Everything the lexer copies goes through that decoding; variable values
 * are inserted as raw bytes, except where BuildKit itself re-decodes them
 * (word splitting, suffix trimming).
 *
 * Patterns.  BuildKit turns the pattern of # ## % %% / // into a Go regular
 * expression made only of literals, `.` (any rune but newline), `.*` and
 * `.*?`.  Go picks the match a backtracking engine would find first
 * (leftmost-first).  That is reproduced here with a table, one row per
 * pattern item, that gives for each start position the end of the first
 * match in priority order: linear in the value per item, no recursion.
 */
#include "expand.h"
#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPAND__EOF (-1)
#define EXPAND__RUNE_ERROR 0xFFFD
#define EXPAND__BOM 0xFEFF
#define EXPAND__MAX_DEPTH 512

/* ---- Unicode classes, as Go's unicode.IsLetter / IsDigit / IsSpace ---- */

struct expand__range {
  int32_t lo, hi;
};

/*
 * Non-ASCII letters (categories Lu Ll Lt Lm Lo) and decimal digits (Nd),
 * Unicode 15.0 (the version of Go's unicode package since Go 1.21).
 * Generated from ICU 72's u_charType over U+0080..U+10FFFF.
 */

static const struct expand__range expand__letters[] = {
    {0x00AA, 0x00AA},   {0x00B5, 0x00B5},   {0x00BA, 0x00BA},
    {0x00C0, 0x00D6},   {0x00D8, 0x00F6},   {0x00F8, 0x02C1},
    {0x02C6, 0x02D1},   {0x02E0, 0x02E4},   {0x02EC, 0x02EC},
    {0x02EE, 0x02EE},   {0x0370, 0x0374},   {0x0376, 0x0377},
    {0x037A, 0x037D},   {0x037F, 0x037F},   {0x0386, 0x0386},
    {0x0388, 0x038A},   {0x038C, 0x038C},   {0x038E, 0x03A1},
    {0x03A3, 0x03F5},   {0x03F7, 0x0481},   {0x048A, 0x052F},
    {0x0531, 0x0556},   {0x0559, 0x0559},   {0x0560, 0x0588},
    {0x05D0, 0x05EA},   {0x05EF, 0x05F2},   {0x0620, 0x064A},
    {0x066E, 0x066F},   {0x0671, 0x06D3},   {0x06D5, 0x06D5},
    {0x06E5, 0x06E6},   {0x06EE, 0x06EF},   {0x06FA, 0x06FC},
    {0x06FF, 0x06FF},   {0x0710, 0x0710},   {0x0712, 0x072F},
    {0x074D, 0x07A5},   {0x07B1, 0x07B1},   {0x07CA, 0x07EA},
    {0x07F4, 0x07F5},   {0x07FA, 0x07FA},   {0x0800, 0x0815},
    {0x081A, 0x081A},   {0x0824, 0x0824},   {0x0828, 0x0828},
    {0x0840, 0x0858},   {0x0860, 0x086A},   {0x0870, 0x0887},
    {0x0889, 0x088E},   {0x08A0, 0x08C9},   {0x0904, 0x0939},
    {0x093D, 0x093D},   {0x0950, 0x0950},   {0x0958, 0x0961},
    {0x0971, 0x0980},   {0x0985, 0x098C},   {0x098F, 0x0990},
    {0x0993, 0x09A8},   {0x09AA, 0x09B0},   {0x09B2, 0x09B2},
    {0x09B6, 0x09B9},   {0x09BD, 0x09BD},   {0x09CE, 0x09CE},
    {0x09DC, 0x09DD},   {0x09DF, 0x09E1},   {0x09F0, 0x09F1},
    {0x09FC, 0x09FC},   {0x0A05, 0x0A0A},   {0x0A0F, 0x0A10},
    {0x0A13, 0x0A28},   {0x0A2A, 0x0A30},   {0x0A32, 0x0A33},
    {0x0A35, 0x0A36},   {0x0A38, 0x0A39},   {0x0A59, 0x0A5C},
    {0x0A5E, 0x0A5E},   {0x0A72, 0x0A74},   {0x0A85, 0x0A8D},
    {0x0A8F, 0x0A91},   {0x0A93, 0x0AA8},   {0x0AAA, 0x0AB0},
    {0x0AB2, 0x0AB3},   {0x0AB5, 0x0AB9},   {0x0ABD, 0x0ABD},
    {0x0AD0, 0x0AD0},   {0x0AE0, 0x0AE1},   {0x0AF9, 0x0AF9},
    {0x0B05, 0x0B0C},   {0x0B0F, 0x0B10},   {0x0B13, 0x0B28},
    {0x0B2A, 0x0B30},   {0x0B32, 0x0B33},   {0x0B35, 0x0B39},
    {0x0B3D, 0x0B3D},   {0x0B5C, 0x0B5D},   {0x0B5F, 0x0B61},
    {0x0B71, 0x0B71},   {0x0B83, 0x0B83},   {0x0B85, 0x0B8A},
    {0x0B8E, 0x0B90},   {0x0B92, 0x0B95},   {0x0B99, 0x0B9A},
    {0x0B9C, 0x0B9C},   {0x0B9E, 0x0B9F},   {0x0BA3, 0x0BA4},
    {0x0BA8, 0x0BAA},   {0x0BAE, 0x0BB9},   {0x0BD0, 0x0BD0},
    {0x0C05, 0x0C0C},   {0x0C0E, 0x0C10},   {0x0C12, 0x0C28},
    {0x0C2A, 0x0C39},   {0x0C3D, 0x0C3D},   {0x0C58, 0x0C5A},
    {0x0C5D, 0x0C5D},   {0x0C60, 0x0C61},   {0x0C80, 0x0C80},
    {0x0C85, 0x0C8C},   {0x0C8E, 0x0C90},   {0x0C92, 0x0CA8},
    {0x0CAA, 0x0CB3},   {0x0CB5, 0x0CB9},   {0x0CBD, 0x0CBD},
    {0x0CDD, 0x0CDE},   {0x0CE0, 0x0CE1},   {0x0CF1, 0x0CF2},
    {0x0D04, 0x0D0C},   {0x0D0E, 0x0D10},   {0x0D12, 0x0D3A},
    {0x0D3D, 0x0D3D},   {0x0D4E, 0x0D4E},   {0x0D54, 0x0D56},
    {0x0D5F, 0x0D61},   {0x0D7A, 0x0D7F},   {0x0D85, 0x0D96},
    {0x0D9A, 0x0DB1},   {0x0DB3, 0x0DBB},   {0x0DBD, 0x0DBD},
    {0x0DC0, 0x0DC6},   {0x0E01, 0x0E30},   {0x0E32, 0x0E33},
    {0x0E40, 0x0E46},   {0x0E81, 0x0E82},   {0x0E84, 0x0E84},
    {0x0E86, 0x0E8A},   {0x0E8C, 0x0EA3},   {0x0EA5, 0x0EA5},
    {0x0EA7, 0x0EB0},   {0x0EB2, 0x0EB3},   {0x0EBD, 0x0EBD},
    {0x0EC0, 0x0EC4},   {0x0EC6, 0x0EC6},   {0x0EDC, 0x0EDF},
    {0x0F00, 0x0F00},   {0x0F40, 0x0F47},   {0x0F49, 0x0F6C},
    {0x0F88, 0x0F8C},   {0x1000, 0x102A},   {0x103F, 0x103F},
    {0x1050, 0x1055},   {0x105A, 0x105D},   {0x1061, 0x1061},
    {0x1065, 0x1066},   {0x106E, 0x1070},   {0x1075, 0x1081},
    {0x108E, 0x108E},   {0x10A0, 0x10C5},   {0x10C7, 0x10C7},
    {0x10CD, 0x10CD},   {0x10D0, 0x10FA},   {0x10FC, 0x1248},
    {0x124A, 0x124D},   {0x1250, 0x1256},   {0x1258, 0x1258},
    {0x125A, 0x125D},   {0x1260, 0x1288},   {0x128A, 0x128D},
    {0x1290, 0x12B0},   {0x12B2, 0x12B5},   {0x12B8, 0x12BE},
    {0x12C0, 0x12C0},   {0x12C2, 0x12C5},   {0x12C8, 0x12D6},
    {0x12D8, 0x1310},   {0x1312, 0x1315},   {0x1318, 0x135A},
    {0x1380, 0x138F},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1401, 0x166C},   {0x166F, 0x167F},   {0x1681, 0x169A},
    {0x16A0, 0x16EA},   {0x16F1, 0x16F8},   {0x1700, 0x1711},
    {0x171F, 0x1731},   {0x1740, 0x1751},   {0x1760, 0x176C},
    {0x176E, 0x1770},   {0x1780, 0x17B3},   {0x17D7, 0x17D7},
    {0x17DC, 0x17DC},   {0x1820, 0x1878},   {0x1880, 0x1884},
    {0x1887, 0x18A8},   {0x18AA, 0x18AA},   {0x18B0, 0x18F5},
    {0x1900, 0x191E},   {0x1950, 0x196D},   {0x1970, 0x1974},
    {0x1980, 0x19AB},   {0x19B0, 0x19C9},   {0x1A00, 0x1A16},
    {0x1A20, 0x1A54},   {0x1AA7, 0x1AA7},   {0x1B05, 0x1B33},
    {0x1B45, 0x1B4C},   {0x1B83, 0x1BA0},   {0x1BAE, 0x1BAF},
    {0x1BBA, 0x1BE5},   {0x1C00, 0x1C23},   {0x1C4D, 0x1C4F},
    {0x1C5A, 0x1C7D},   {0x1C80, 0x1C88},   {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF},   {0x1CE9, 0x1CEC},   {0x1CEE, 0x1CF3},
    {0x1CF5, 0x1CF6},   {0x1CFA, 0x1CFA},   {0x1D00, 0x1DBF},
    {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B},   {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},
    {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},   {0x1FBE, 0x1FBE},
    {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},
    {0x1FF6, 0x1FFC},   {0x2071, 0x2071},   {0x207F, 0x207F},
    {0x2090, 0x209C},   {0x2102, 0x2102},   {0x2107, 0x2107},
    {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},
    {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},
    {0x2C00, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},
    {0x2D00, 0x2D25},   {0x2D27, 0x2D27},   {0x2D2D, 0x2D2D},
    {0x2D30, 0x2D67},   {0x2D6F, 0x2D6F},   {0x2D80, 0x2D96},
    {0x2DA0, 0x2DA6},   {0x2DA8, 0x2DAE},   {0x2DB0, 0x2DB6},
    {0x2DB8, 0x2DBE},   {0x2DC0, 0x2DC6},   {0x2DC8, 0x2DCE},
    {0x2DD0, 0x2DD6},   {0x2DD8, 0x2DDE},   {0x2E2F, 0x2E2F},
    {0x3005, 0x3006},   {0x3031, 0x3035},   {0x303B, 0x303C},
    {0x3041, 0x3096},   {0x309D, 0x309F},   {0x30A1, 0x30FA},
    {0x30FC, 0x30FF},   {0x3105, 0x312F},   {0x3131, 0x318E},
    {0x31A0, 0x31BF},   {0x31F0, 0x31FF},   {0x3400, 0x4DBF},
    {0x4E00, 0xA48C},   {0xA4D0, 0xA4FD},   {0xA500, 0xA60C},
    {0xA610, 0xA61F},   {0xA62A, 0xA62B},   {0xA640, 0xA66E},
    {0xA67F, 0xA69D},   {0xA6A0, 0xA6E5},   {0xA717, 0xA71F},
    {0xA722, 0xA788},   {0xA78B, 0xA7CA},   {0xA7D0, 0xA7D1},
    {0xA7D3, 0xA7D3},   {0xA7D5, 0xA7D9},   {0xA7F2, 0xA801},
    {0xA803, 0xA805},   {0xA807, 0xA80A},   {0xA80C, 0xA822},
    {0xA840, 0xA873},   {0xA882, 0xA8B3},   {0xA8F2, 0xA8F7},
    {0xA8FB, 0xA8FB},   {0xA8FD, 0xA8FE},   {0xA90A, 0xA925},
    {0xA930, 0xA946},   {0xA960, 0xA97C},   {0xA984, 0xA9B2},
    {0xA9CF, 0xA9CF},   {0xA9E0, 0xA9E4},   {0xA9E6, 0xA9EF},
    {0xA9FA, 0xA9FE},   {0xAA00, 0xAA28},   {0xAA40, 0xAA42},
    {0xAA44, 0xAA4B},   {0xAA60, 0xAA76},   {0xAA7A, 0xAA7A},
    {0xAA7E, 0xAAAF},   {0xAAB1, 0xAAB1},   {0xAAB5, 0xAAB6},
    {0xAAB9, 0xAABD},   {0xAAC0, 0xAAC0},   {0xAAC2, 0xAAC2},
    {0xAADB, 0xAADD},   {0xAAE0, 0xAAEA},   {0xAAF2, 0xAAF4},
    {0xAB01, 0xAB06},   {0xAB09, 0xAB0E},   {0xAB11, 0xAB16},
    {0xAB20, 0xAB26},   {0xAB28, 0xAB2E},   {0xAB30, 0xAB5A},
    {0xAB5C, 0xAB69},   {0xAB70, 0xABE2},   {0xAC00, 0xD7A3},
    {0xD7B0, 0xD7C6},   {0xD7CB, 0xD7FB},   {0xF900, 0xFA6D},
    {0xFA70, 0xFAD9},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},
    {0xFB1D, 0xFB1D},   {0xFB1F, 0xFB28},   {0xFB2A, 0xFB36},
    {0xFB38, 0xFB3C},   {0xFB3E, 0xFB3E},   {0xFB40, 0xFB41},
    {0xFB43, 0xFB44},   {0xFB46, 0xFBB1},   {0xFBD3, 0xFD3D},
    {0xFD50, 0xFD8F},   {0xFD92, 0xFDC7},   {0xFDF0, 0xFDFB},
    {0xFE70, 0xFE74},   {0xFE76, 0xFEFC},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0xFF66, 0xFFBE},   {0xFFC2, 0xFFC7},
    {0xFFCA, 0xFFCF},   {0xFFD2, 0xFFD7},   {0xFFDA, 0xFFDC},
    {0x10000, 0x1000B}, {0x1000D, 0x10026}, {0x10028, 0x1003A},
    {0x1003C, 0x1003D}, {0x1003F, 0x1004D}, {0x10050, 0x1005D},
    {0x10080, 0x100FA}, {0x10280, 0x1029C}, {0x102A0, 0x102D0},
    {0x10300, 0x1031F}, {0x1032D, 0x10340}, {0x10342, 0x10349},
    {0x10350, 0x10375}, {0x10380, 0x1039D}, {0x103A0, 0x103C3},
    {0x103C8, 0x103CF}, {0x10400, 0x1049D}, {0x104B0, 0x104D3},
    {0x104D8, 0x104FB}, {0x10500, 0x10527}, {0x10530, 0x10563},
    {0x10570, 0x1057A}, {0x1057C, 0x1058A}, {0x1058C, 0x10592},
    {0x10594, 0x10595}, {0x10597, 0x105A1}, {0x105A3, 0x105B1},
    {0x105B3, 0x105B9}, {0x105BB, 0x105BC}, {0x10600, 0x10736},
    {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785},
    {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x10800, 0x10805},
    {0x10808, 0x10808}, {0x1080A, 0x10835}, {0x10837, 0x10838},
    {0x1083C, 0x1083C}, {0x1083F, 0x10855}, {0x10860, 0x10876},
    {0x10880, 0x1089E}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5},
    {0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109B7},
    {0x109BE, 0x109BF}, {0x10A00, 0x10A00}, {0x10A10, 0x10A13},
    {0x10A15, 0x10A17}, {0x10A19, 0x10A35}, {0x10A60, 0x10A7C},
    {0x10A80, 0x10A9C}, {0x10AC0, 0x10AC7}, {0x10AC9, 0x10AE4},
    {0x10B00, 0x10B35}, {0x10B40, 0x10B55}, {0x10B60, 0x10B72},
    {0x10B80, 0x10B91}, {0x10C00, 0x10C48}, {0x10C80, 0x10CB2},
    {0x10CC0, 0x10CF2}, {0x10D00, 0x10D23}, {0x10E80, 0x10EA9},
    {0x10EB0, 0x10EB1}, {0x10F00, 0x10F1C}, {0x10F27, 0x10F27},
    {0x10F30, 0x10F45}, {0x10F70, 0x10F81}, {0x10FB0, 0x10FC4},
    {0x10FE0, 0x10FF6}, {0x11003, 0x11037}, {0x11071, 0x11072},
    {0x11075, 0x11075}, {0x11083, 0x110AF}, {0x110D0, 0x110E8},
    {0x11103, 0x11126}, {0x11144, 0x11144}, {0x11147, 0x11147},
    {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111B2},
    {0x111C1, 0x111C4}, {0x111DA, 0x111DA}, {0x111DC, 0x111DC},
    {0x11200, 0x11211}, {0x11213, 0x1122B}, {0x1123F, 0x11240},
    {0x11280, 0x11286}, {0x11288, 0x11288}, {0x1128A, 0x1128D},
    {0x1128F, 0x1129D}, {0x1129F, 0x112A8}, {0x112B0, 0x112DE},
    {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328},
    {0x1132A, 0x11330}, {0x11332, 0x11333}, {0x11335, 0x11339},
    {0x1133D, 0x1133D}, {0x11350, 0x11350}, {0x1135D, 0x11361},
    {0x11400, 0x11434}, {0x11447, 0x1144A}, {0x1145F, 0x11461},
    {0x11480, 0x114AF}, {0x114C4, 0x114C5}, {0x114C7, 0x114C7},
    {0x11580, 0x115AE}, {0x115D8, 0x115DB}, {0x11600, 0x1162F},
    {0x11644, 0x11644}, {0x11680, 0x116AA}, {0x116B8, 0x116B8},
    {0x11700, 0x1171A}, {0x11740, 0x11746}, {0x11800, 0x1182B},
    {0x118A0, 0x118DF}, {0x118FF, 0x11906}, {0x11909, 0x11909},
    {0x1190C, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x1192F},
    {0x1193F, 0x1193F}, {0x11941, 0x11941}, {0x119A0, 0x119A7},
    {0x119AA, 0x119D0}, {0x119E1, 0x119E1}, {0x119E3, 0x119E3},
    {0x11A00, 0x11A00}, {0x11A0B, 0x11A32}, {0x11A3A, 0x11A3A},
    {0x11A50, 0x11A50}, {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D},
    {0x11AB0, 0x11AF8}, {0x11C00, 0x11C08}, {0x11C0A, 0x11C2E},
    {0x11C40, 0x11C40}, {0x11C72, 0x11C8F}, {0x11D00, 0x11D06},
    {0x11D08, 0x11D09}, {0x11D0B, 0x11D30}, {0x11D46, 0x11D46},
    {0x11D60, 0x11D65}, {0x11D67, 0x11D68}, {0x11D6A, 0x11D89},
    {0x11D98, 0x11D98}, {0x11EE0, 0x11EF2}, {0x11F02, 0x11F02},
    {0x11F04, 0x11F10}, {0x11F12, 0x11F33}, {0x11FB0, 0x11FB0},
    {0x12000, 0x12399}, {0x12480, 0x12543}, {0x12F90, 0x12FF0},
    {0x13000, 0x1342F}, {0x13441, 0x13446}, {0x14400, 0x14646},
    {0x16800, 0x16A38}, {0x16A40, 0x16A5E}, {0x16A70, 0x16ABE},
    {0x16AD0, 0x16AED}, {0x16B00, 0x16B2F}, {0x16B40, 0x16B43},
    {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F}, {0x16E40, 0x16E7F},
    {0x16F00, 0x16F4A}, {0x16F50, 0x16F50}, {0x16F93, 0x16F9F},
    {0x16FE0, 0x16FE1}, {0x16FE3, 0x16FE3}, {0x17000, 0x187F7},
    {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFF3},
    {0x1AFF5, 0x1AFFB}, {0x1AFFD, 0x1AFFE}, {0x1B000, 0x1B122},
    {0x1B132, 0x1B132}, {0x1B150, 0x1B152}, {0x1B155, 0x1B155},
    {0x1B164, 0x1B167}, {0x1B170, 0x1B2FB}, {0x1BC00, 0x1BC6A},
    {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88}, {0x1BC90, 0x1BC99},
    {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F},
    {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6}, {0x1D4A9, 0x1D4AC},
    {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3},
    {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514},
    {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E},
    {0x1D540, 0x1D544}, {0x1D546, 0x1D546}, {0x1D54A, 0x1D550},
    {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D6C0}, {0x1D6C2, 0x1D6DA},
    {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734},
    {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E}, {0x1D770, 0x1D788},
    {0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB},
    {0x1DF00, 0x1DF1E}, {0x1DF25, 0x1DF2A}, {0x1E030, 0x1E06D},
    {0x1E100, 0x1E12C}, {0x1E137, 0x1E13D}, {0x1E14E, 0x1E14E},
    {0x1E290, 0x1E2AD}, {0x1E2C0, 0x1E2EB}, {0x1E4D0, 0x1E4EB},
    {0x1E7E0, 0x1E7E6}, {0x1E7E8, 0x1E7EB}, {0x1E7ED, 0x1E7EE},
    {0x1E7F0, 0x1E7FE}, {0x1E800, 0x1E8C4}, {0x1E900, 0x1E943},
    {0x1E94B, 0x1E94B}, {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F},
    {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24}, {0x1EE27, 0x1EE27},
    {0x1EE29, 0x1EE32}, {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39},
    {0x1EE3B, 0x1EE3B}, {0x1EE42, 0x1EE42}, {0x1EE47, 0x1EE47},
    {0x1EE49, 0x1EE49}, {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F},
    {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54}, {0x1EE57, 0x1EE57},
    {0x1EE59, 0x1EE59}, {0x1EE5B, 0x1EE5B}, {0x1EE5D, 0x1EE5D},
    {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62}, {0x1EE64, 0x1EE64},
    {0x1EE67, 0x1EE6A}, {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77},
    {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E}, {0x1EE80, 0x1EE89},
    {0x1EE8B, 0x1EE9B}, {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9},
    {0x1EEAB, 0x1EEBB}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B739},
    {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0},
    {0x2F800, 0x2FA1D}, {0x30000, 0x3134A}, {0x31350, 0x323AF},
};
static const struct expand__range expand__digits[] = {
    {0x0660, 0x0669},   {0x06F0, 0x06F9},   {0x07C0, 0x07C9},
    {0x0966, 0x096F},   {0x09E6, 0x09EF},   {0x0A66, 0x0A6F},
    {0x0AE6, 0x0AEF},   {0x0B66, 0x0B6F},   {0x0BE6, 0x0BEF},
    {0x0C66, 0x0C6F},   {0x0CE6, 0x0CEF},   {0x0D66, 0x0D6F},
    {0x0DE6, 0x0DEF},   {0x0E50, 0x0E59},   {0x0ED0, 0x0ED9},
    {0x0F20, 0x0F29},   {0x1040, 0x1049},   {0x1090, 0x1099},
    {0x17E0, 0x17E9},   {0x1810, 0x1819},   {0x1946, 0x194F},
    {0x19D0, 0x19D9},   {0x1A80, 0x1A89},   {0x1A90, 0x1A99},
    {0x1B50, 0x1B59},   {0x1BB0, 0x1BB9},   {0x1C40, 0x1C49},
    {0x1C50, 0x1C59},   {0xA620, 0xA629},   {0xA8D0, 0xA8D9},
    {0xA900, 0xA909},   {0xA9D0, 0xA9D9},   {0xA9F0, 0xA9F9},
    {0xAA50, 0xAA59},   {0xABF0, 0xABF9},   {0xFF10, 0xFF19},
    {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F},
    {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9},
    {0x112F0, 0x112F9}, {0x11450, 0x11459}, {0x114D0, 0x114D9},
    {0x11650, 0x11659}, {0x116C0, 0x116C9}, {0x11730, 0x11739},
    {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59},
    {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x11F50, 0x11F59},
    {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9}, {0x16B50, 0x16B59},
    {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E4F0, 0x1E4F9}, {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9},
};

static bool expand__in_ranges(const struct expand__range *r, size_t n,
                              int32_t c) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c < r[mid].lo)
      hi = mid;
    else if (c > r[mid].hi)
      lo = mid + 1;
    else
      return true;
  }
  return false;
}

#define EXPAND__NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool expand__is_letter(int32_t c) {
  if (c < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return expand__in_ranges(expand__letters, EXPAND__NELEM(expand__letters), c);
}

static bool expand__is_digit(int32_t c) {
  if (c < 0x80)
    return c >= '0' && c <= '9';
  return expand__in_ranges(expand__digits, EXPAND__NELEM(expand__digits), c);
}

/* unicode.IsSpace; text.c holds the one table. */
static bool expand__is_space(int32_t c) {
  return c >= 0 && text_is_space((uint32_t)c);
}

/* ---- UTF-8, with Go's rules for what is invalid ---- */

/* Decodes the rune at s[0..n) (n > 0) like utf8.DecodeRune: anything
 * malformed, overlong, a surrogate or past U+10FFFF is U+FFFD, width 1. */
static int32_t expand__decode(const char *str, size_t n, size_t *width) {
  return (int32_t)utf8_decode(str, n, width);
}

/* Writes rune c as UTF-8; EOF (Go's string(rune(-1))) is U+FFFD. */
static void expand__put_rune(struct buf *b, int32_t c) {
  utf8_append(b, c < 0 ? UTF8_RUNE_ERROR : (uint32_t)c);
}

/* A string decoded to runes; off[i] is the byte offset of r[i] and off[n]
 * the byte length, so matches found on runes map back to the bytes. */
struct expand__runes {
  int32_t *r;
  size_t *off;
  size_t n;
};

static void expand__runes_decode(struct expand__runes *rs, const char *s,
                                 size_t len) {
  rs->r = xmalloc((len + 1) * sizeof(*rs->r));
  rs->off = xmalloc((len + 1) * sizeof(*rs->off));
  rs->n = 0;
  size_t pos = 0;
  while (pos < len) {
    size_t w;
    rs->off[rs->n] = pos;
    rs->r[rs->n++] = expand__decode(s + pos, len - pos, &w);
    pos += w;
  }
  rs->off[rs->n] = len;
}

static void expand__runes_free(struct expand__runes *rs) {
  free(rs->r);
  free(rs->off);
  rs->r = NULL;
  rs->off = NULL;
  rs->n = 0;
}

static void expand__runes_reverse(int32_t *r, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    int32_t t = r[i];
    r[i] = r[n - 1 - i];
    r[n - 1 - i] = t;
  }
}

/* ---- the lexer ---- */

struct expand__lexer {
  const char *src;
  size_t len;
  size_t pos; /* byte offset of the next rune */
  int32_t escape;
  unsigned flags;
  /* Changes while a ${...} word is read: BuildKit keeps escapes in
   * patterns whatever the caller asked for, and drops them elsewhere. */
  bool raw_escapes;
  unsigned depth; /* ${...} nesting, see expand__dollar */
  const struct expand_env *env;
  struct expand_report *report;
  struct err *err;
};

static int32_t expand__peek(const struct expand__lexer *lx) {
  size_t w;
  if (lx->pos >= lx->len)
    return EXPAND__EOF;
  return expand__decode(lx->src + lx->pos, lx->len - lx->pos, &w);
}

static int32_t expand__next(struct expand__lexer *lx) {
  size_t w;
  if (lx->pos >= lx->len)
    return EXPAND__EOF;
  int32_t c = expand__decode(lx->src + lx->pos, lx->len - lx->pos, &w);
  lx->pos += w;
  return c;
}

static int expand__fail(struct expand__lexer *lx, int code, size_t pos,
                        const char *fmt, ...) DW_PRINTF(4, 5);

/* Records an error at byte offset pos of the word (reported 1-based). */
static int expand__fail(struct expand__lexer *lx, int code, size_t pos,
                        const char *fmt, ...) {
  char msg[ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return err_set_at(lx->err, code, 0, (unsigned)(pos + 1), "%s", msg);
}

static void expand__note(struct strv *sv, const char *name, size_t len) {
  if (sv == NULL)
    return;
  for (size_t i = 0; i < sv->n; i++)
    if (strlen(sv->v[i]) == len && memcmp(sv->v[i], name, len) == 0)
      return;
  strv_pushn(sv, name, len);
}

/* Looks NAME up and records it in the report, as BuildKit's getEnv does
 * for every lookup (also the ones whose result ends up unused). */
static const char *expand__getenv(struct expand__lexer *lx, const char *name,
                                  size_t len) {
  const char *v = NULL;
  if (lx->env != NULL && lx->env->lookup != NULL)
    v = lx->env->lookup(lx->env->ctx, name, len);
  if (lx->report != NULL)
    expand__note(v != NULL ? lx->report->used : lx->report->unset, name, len);
  return v;
}

/* ---- word splitting (ProcessWords) ---- */

struct expand__words {
  struct strv *out;
  struct buf word;
  /* Set by any text, even empty quotes; a space only ends a word that has
   * bytes, so `a "" b` gives two words and `""` alone gives none. */
  bool in_word;
};

static void expand__w_raw_char(struct expand__words *w, int32_t c) {
  if (w == NULL)
    return;
  expand__put_rune(&w->word, c);
  w->in_word = true;
}

static void expand__w_char(struct expand__words *w, int32_t c) {
  if (w == NULL)
    return;
  if (!expand__is_space(c)) {
    expand__w_raw_char(w, c);
  } else if (w->in_word && w->word.len != 0) {
    strv_push_take(w->out, buf_take(&w->word));
    w->in_word = false;
  }
}

static void expand__w_string(struct expand__words *w, const char *s,
                             size_t len) {
  size_t pos = 0, n;
  if (w == NULL)
    return;
  while (pos < len) {
    expand__w_char(w, expand__decode(s + pos, len - pos, &n));
    pos += n;
  }
}

static void expand__w_raw_string(struct expand__words *w, const char *s,
                                 size_t len) {
  if (w == NULL)
    return;
  buf_append(&w->word, s, len);
  w->in_word = true;
}

/* ---- patterns of # ## % %% / // ---- */

enum expand__pat_kind { PAT_LIT, PAT_ANY, PAT_STAR };

struct expand__pat {
  enum expand__pat_kind kind;
  int32_t lit;
};

/*
 * Compiles pattern runes p[0..n) the way BuildKit's shell-pattern-to-regex
 * conversion does.  BuildKit's conversion always uses `\` as the escape,
 * whatever the file's escape token.  `\}` and `\/` lose the backslash (they
 * only protect the ${} syntax); `\*` `\?` `\\` are literals; any other
 * escape, or a lone trailing `\`, is an error.  Brackets are literals.
 * On error returns -1 with the offending rune in *bad.
 */
static int expand__pat_compile(const int32_t *p, size_t n,
                               struct expand__pat **out, size_t *nout,
                               int32_t *bad) {
  struct expand__pat *items = xmalloc((n + 1) * sizeof(*items));
  size_t ni = 0, i = 0;
  if (n > 0 && p[0] == EXPAND__BOM)
    i = 1; /* the regex converter scans with a fresh Go scanner */
  while (i < n) {
    int32_t c = p[i++];
    if (c == '*') {
      items[ni++] = (struct expand__pat){PAT_STAR, 0};
      continue;
    }
    if (c == '?') {
      items[ni++] = (struct expand__pat){PAT_ANY, 0};
      continue;
    }
    if (c == '\\') {
      if (i < n && (p[i] == '}' || p[i] == '/'))
        continue;
      c = i < n ? p[i++] : EXPAND__EOF;
      if (c != '*' && c != '?' && c != '\\') {
        free(items);
        *bad = c;
        return -1;
      }
    }
    items[ni++] = (struct expand__pat){PAT_LIT, c};
  }
  *out = items;
  *nout = ni;
  return 0;
}

/*
 * For every start position ti in t[0..n], the end of the match of the
 * pattern that Go's leftmost-first regexp would report when anchored at
 * ti, or -1.  Built from the last item backwards; a star takes the longest
 * (greedy) or shortest (lazy) run of non-newline runes after which the
 * rest of the pattern matches.  Caller frees the result.
 */
static long *expand__pat_table(const struct expand__pat *pat, size_t np,
                               const int32_t *t, size_t n, bool greedy) {
  long *next = xmalloc((n + 1) * sizeof(*next));
  long *cur = xmalloc((n + 1) * sizeof(*cur));
  for (size_t ti = 0; ti <= n; ti++)
    next[ti] = (long)ti;

  for (size_t pi = np; pi-- > 0;) {
    const struct expand__pat *it = &pat[pi];
    if (it->kind == PAT_STAR) {
      long best = -1;
      for (size_t ti = n + 1; ti-- > 0;) {
        if (ti == n || t[ti] == '\n')
          best = next[ti] >= 0 ? (long)ti : -1; /* the run ends here */
        else if (next[ti] >= 0 && (!greedy || best < 0))
          best = (long)ti;
        cur[ti] = best >= 0 ? next[best] : -1;
      }
    } else {
      for (size_t ti = 0; ti <= n; ti++) {
        bool ok =
            ti < n && (it->kind == PAT_LIT ? t[ti] == it->lit : t[ti] != '\n');
        cur[ti] = ok ? next[ti + 1] : -1;
      }
    }
    long *tmp = next;
    next = cur;
    cur = tmp;
  }
  free(cur);
  return next;
}

/* BuildKit reverses a pattern for suffix matching, keeping each `\x` pair
 * in order so the escape still precedes what it escapes. */
static void expand__pat_reverse(const int32_t *in, int32_t *out, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t o = n - 1 - i;
    if (in[i] == '\\' && i != n - 1) {
      out[o - 1] = '\\';
      out[o] = in[i + 1];
      i += 2;
    } else {
      out[o] = in[i];
      i++;
    }
  }
}

/* Compiles or records BuildKit's "invalid pattern" error; shown is the
 * pattern as BuildKit prints it (reversed for % and %%). */
static int expand__compile_or_fail(struct expand__lexer *lx, size_t at,
                                   const int32_t *p, size_t n,
                                   const char *shown, size_t shown_len,
                                   struct expand__pat **pat, size_t *np) {
  int32_t bad;
  if (expand__pat_compile(p, n, pat, np, &bad) == 0)
    return 0;
  struct buf badc = BUF_INIT;
  expand__put_rune(&badc, bad);
  int rc = expand__fail(lx, ERR_SYNTAX, at,
                        "invalid pattern (%.*s) in substitution: invalid "
                        "escape '\\%s'",
                        (int)shown_len, shown, buf_cstr(&badc));
  buf_cleanup(&badc);
  return rc;
}

/* ${var#pat} and ${var##pat}: drop the matched prefix. */
static int expand__trim_prefix(struct expand__lexer *lx, size_t at,
                               const char *pattern, size_t plen,
                               const char *value, bool greedy,
                               struct buf *out) {
  struct expand__runes p, v;
  struct expand__pat *pat;
  size_t np;
  expand__runes_decode(&p, pattern, plen);
  int rc = expand__compile_or_fail(lx, at, p.r, p.n, pattern, plen, &pat, &np);
  expand__runes_free(&p);
  if (rc < 0)
    return rc;

  expand__runes_decode(&v, value, strlen(value));
  long *tab = expand__pat_table(pat, np, v.r, v.n, greedy);
  size_t from = tab[0] >= 0 ? v.off[tab[0]] : 0;
  buf_puts(out, value + from);
  free(tab);
  free(pat);
  expand__runes_free(&v);
  return 0;
}

/* ${var%pat} and ${var%%pat}.  BuildKit reverses pattern and value to turn
 * the rightmost match into a leftmost one; the value goes through Go's
 * []rune conversion, so invalid bytes come back as U+FFFD. */
static int expand__trim_suffix(struct expand__lexer *lx, size_t at,
                               const char *pattern, size_t plen,
                               const char *value, bool greedy,
                               struct buf *out) {
  struct expand__runes p, v;
  struct expand__pat *pat;
  size_t np;
  expand__runes_decode(&p, pattern, plen);
  int32_t *rev = xmalloc((p.n + 1) * sizeof(*rev));
  expand__pat_reverse(p.r, rev, p.n);
  struct buf shown = BUF_INIT;
  for (size_t i = 0; i < p.n; i++)
    expand__put_rune(&shown, rev[i]);
  int rc = expand__compile_or_fail(lx, at, rev, p.n, buf_cstr(&shown),
                                   shown.len, &pat, &np);
  buf_cleanup(&shown);
  free(rev);
  expand__runes_free(&p);
  if (rc < 0)
    return rc;

  expand__runes_decode(&v, value, strlen(value));
  expand__runes_reverse(v.r, v.n);
  long *tab = expand__pat_table(pat, np, v.r, v.n, greedy);
  size_t cut = tab[0] >= 0 ? (size_t)tab[0] : 0;
  for (size_t i = v.n; i-- > cut;)
    expand__put_rune(out, v.r[i]);
  free(tab);
  free(pat);
  expand__runes_free(&v);
  return 0;
}

/*
 * The replacement text of ${var//pat/repl} goes through Go's
 * Regexp.ReplaceAllString, which expands `$` references: `$$` is `$`, and
 * `$0` / `${0}` the whole match.  The pattern has no groups, so every other
 * well-formed reference ($1, $name, ${x}) is empty; a malformed one leaves
 * the `$` as text.
 */
static void expand__repl_expand(struct buf *out, const char *tpl, size_t tlen,
                                const char *match, size_t mlen) {
  size_t i = 0;
  while (i < tlen) {
    const char *d = memchr(tpl + i, '$', tlen - i);
    if (d == NULL)
      break;
    size_t at = (size_t)(d - tpl);
    buf_append(out, tpl + i, at - i);
    i = at + 1;
    if (i < tlen && tpl[i] == '$') {
      buf_putc(out, '$');
      i++;
      continue;
    }
    size_t j = i;
    bool brace = j < tlen && tpl[j] == '{';
    if (brace)
      j++;
    size_t name = j, w;
    while (j < tlen) {
      int32_t c = expand__decode(tpl + j, tlen - j, &w);
      if (!expand__is_letter(c) && !expand__is_digit(c) && c != '_')
        break;
      j += w;
    }
    size_t name_len = j - name;
    if (name_len == 0 || (brace && (j >= tlen || tpl[j] != '}'))) {
      buf_putc(out, '$');
      continue;
    }
    if (brace)
      j++;
    if (name_len == 1 && tpl[name] == '0')
      buf_append(out, match, mlen);
    i = j;
  }
  buf_append(out, tpl + i, tlen - i);
}

/* ${var/pat/repl} (first match) and ${var//pat/repl} (all matches). */
static int expand__replace(struct expand__lexer *lx, size_t at,
                           const char *pattern, size_t plen, const char *repl,
                           size_t rlen, const char *value, bool all,
                           struct buf *out) {
  struct expand__runes p, v;
  struct expand__pat *pat;
  size_t np;
  expand__runes_decode(&p, pattern, plen);
  int rc = expand__compile_or_fail(lx, at, p.r, p.n, pattern, plen, &pat, &np);
  expand__runes_free(&p);
  if (rc < 0)
    return rc;

  size_t vlen = strlen(value);
  expand__runes_decode(&v, value, vlen);
  long *tab = expand__pat_table(pat, np, v.r, v.n, true);

  if (!all) {
    size_t s = 0;
    while (s <= v.n && tab[s] < 0)
      s++;
    if (s > v.n) {
      buf_append(out, value, vlen);
    } else {
      buf_append(out, value, v.off[s]);
      buf_append(out, repl, rlen);
      buf_puts(out, value + v.off[tab[s]]);
    }
  } else {
    /* Go's replaceAll loop, in rune indexes: an empty match right after
     * a match is not replaced, and the search always moves forward. */
    size_t search = 0, last_end = 0;
    while (search <= v.n) {
      size_t s = search;
      while (s <= v.n && tab[s] < 0)
        s++;
      if (s > v.n)
        break;
      size_t e = (size_t)tab[s];
      buf_append(out, value + v.off[last_end], v.off[s] - v.off[last_end]);
      if (e > last_end || s == 0)
        expand__repl_expand(out, repl, rlen, value + v.off[s],
                            v.off[e] - v.off[s]);
      last_end = e;
      if (search + 1 > e)
        search++;
      else
        search = e;
    }
    buf_append(out, value + v.off[last_end], vlen - v.off[last_end]);
  }
  free(tab);
  free(pat);
  expand__runes_free(&v);
  return 0;
}

/* ---- the grammar ---- */

static int expand__stop_on(struct expand__lexer *lx, int32_t stop,
                           bool raw_escapes, struct buf *res,
                           struct expand__words *w);

static bool expand__is_special_param(int32_t c) {
  switch (c) {
  case '@':
  case '*':
  case '#':
  case '?':
  case '-':
  case '$':
  case '!':
  case '0':
    return true;
  }
  return false;
}

/* Reads a name: a run of digits (positional), one special parameter, or
 * letters/digits/underscore (Unicode letters and digits, as in Go).
 * The name is src[*start..lx->pos). */
static void expand__name(struct expand__lexer *lx, size_t *start) {
  int32_t c = expand__peek(lx);
  *start = lx->pos;
  if (c == EXPAND__EOF)
    return;
  if (expand__is_digit(c)) {
    while ((c = expand__peek(lx)) != EXPAND__EOF && expand__is_digit(c))
      expand__next(lx);
    return;
  }
  if (expand__is_special_param(c)) {
    expand__next(lx);
    return;
  }
  while ((c = expand__peek(lx)) != EXPAND__EOF &&
         (expand__is_letter(c) || expand__is_digit(c) || c == '_'))
    expand__next(lx);
}

/* ${name<modifier>word} for - + ? # % (chs is the modifier as written,
 * with a leading ':' when present). */
static int expand__modifier(struct expand__lexer *lx, size_t at,
                            const char *name, size_t nlen, int32_t ch,
                            const char *chs, bool null_is_unset,
                            struct buf *out) {
  struct buf word = BUF_INIT;
  bool pattern = ch == '#' || ch == '%';
  int rc = expand__stop_on(lx, '}', pattern, &word, NULL);
  if (rc < 0) {
    if (expand__peek(lx) == EXPAND__EOF)
      rc = expand__fail(lx, ERR_SYNTAX, at, "syntax error: missing '}'");
    goto out;
  }

  const char *value = expand__getenv(lx, name, nlen);
  const char *w = buf_cstr(&word);
  bool empty = value == NULL || (null_is_unset && value[0] == '\0');
  if (value == NULL && (lx->flags & EXPAND_SKIP_UNSET)) {
    buf_printf(out, "${%.*s%s%s}", (int)nlen, name, chs, w);
    goto out;
  }

  switch (ch) {
  case '-':
    buf_puts(out, empty ? w : value);
    break;
  case '+':
    if (!empty)
      buf_puts(out, w);
    break;
  case '?':
    if (empty) {
      const char *msg = word.len != 0   ? w
                        : value == NULL ? "is not allowed to be unset"
                                        : "is not allowed to be empty";
      rc = expand__fail(lx, ERR_INVALID, at, "%.*s: %s", (int)nlen, name, msg);
      goto out;
    }
    buf_puts(out, value);
    break;
  case '#':
  case '%': {
    /* A doubled modifier (## %%) is seen as the word's first byte. */
    bool greedy = word.len > 0 && w[0] == (char)ch;
    const char *p = greedy ? w + 1 : w;
    size_t plen = greedy ? word.len - 1 : word.len;
    if (ch == '#')
      rc = expand__trim_prefix(lx, at, p, plen, value ? value : "", greedy,
                               out);
    else
      rc = expand__trim_suffix(lx, at, p, plen, value ? value : "", greedy,
                               out);
    break;
  }
  default:
    rc = expand__fail(lx, ERR_SYNTAX, at,
                      "unsupported modifier (%s) in substitution", chs);
    break;
  }
out:
  buf_cleanup(&word);
  return rc;
}

/* ${name/pattern/replacement} and ${name//pattern/replacement}. */
static int expand__subst(struct expand__lexer *lx, size_t at, const char *name,
                         size_t nlen, struct buf *out) {
  struct buf pattern = BUF_INIT, repl = BUF_INIT;
  bool all = expand__peek(lx) == '/';
  if (all)
    expand__next(lx);

  int rc = expand__stop_on(lx, '/', true, &pattern, NULL);
  if (rc < 0) {
    if (expand__peek(lx) == EXPAND__EOF)
      rc =
          expand__fail(lx, ERR_SYNTAX, at, "syntax error: missing '/' in ${}");
    goto out;
  }
  rc = expand__stop_on(lx, '}', true, &repl, NULL);
  if (rc < 0) {
    if (expand__peek(lx) == EXPAND__EOF)
      rc = expand__fail(lx, ERR_SYNTAX, at, "syntax error: missing '}'");
    goto out;
  }

  const char *value = expand__getenv(lx, name, nlen);
  if (value == NULL && (lx->flags & EXPAND_SKIP_UNSET)) {
    /* BuildKit writes a single '/' back even for '//'. */
    buf_printf(out, "${%.*s/%s/%s}", (int)nlen, name, buf_cstr(&pattern),
               buf_cstr(&repl));
    goto out;
  }
  rc =
      expand__replace(lx, at, buf_cstr(&pattern), pattern.len, buf_cstr(&repl),
                      repl.len, value ? value : "", all, out);
out:
  buf_cleanup(&pattern);
  buf_cleanup(&repl);
  return rc;
}

/* At a '$': appends the expansion to out. */
static int expand__dollar_at(struct expand__lexer *lx, struct buf *out) {
  size_t at = lx->pos, start;
  expand__next(lx);

  if (expand__peek(lx) != '{') {
    expand__name(lx, &start);
    size_t nlen = lx->pos - start;
    if (nlen == 0) {
      buf_putc(out, '$');
      return 0;
    }
    const char *value = expand__getenv(lx, lx->src + start, nlen);
    if (value == NULL && (lx->flags & EXPAND_SKIP_UNSET))
      buf_printf(out, "$%.*s", (int)nlen, lx->src + start);
    else if (value != NULL)
      buf_puts(out, value);
    return 0;
  }

  expand__next(lx);
  switch (expand__peek(lx)) {
  case EXPAND__EOF:
    return expand__fail(lx, ERR_SYNTAX, at, "syntax error: missing '}'");
  case '{':
  case '}':
  case ':':
    return expand__fail(lx, ERR_SYNTAX, at, "syntax error: bad substitution");
  }
  expand__name(lx, &start);
  const char *name = lx->src + start;
  size_t nlen = lx->pos - start;

  int32_t ch = expand__next(lx);
  if (ch == '}') {
    const char *value = expand__getenv(lx, name, nlen);
    if (value == NULL && (lx->flags & EXPAND_SKIP_UNSET))
      buf_printf(out, "${%.*s}", (int)nlen, name);
    else if (value != NULL)
      buf_puts(out, value);
    return 0;
  }
  if (ch == '/')
    return expand__subst(lx, at, name, nlen, out);

  /* The modifier as written, for error messages and SKIP_UNSET output;
   * BuildKit prints end of input as U+FFFD. */
  struct buf chs = BUF_INIT;
  bool null_is_unset = false;
  int rc;
  expand__put_rune(&chs, ch);
  if (ch == ':') {
    /* Whatever follows the ':' is taken as the modifier, so ${a:/x}
     * reads a word and then fails as an unsupported modifier. */
    null_is_unset = true;
    ch = expand__next(lx);
    expand__put_rune(&chs, ch);
  }
  /* Newer BuildKit refuses ${a:#x} and ${a:%x} before reading the word;
   * any other unknown modifier after ':' is refused after it. */
  if ((null_is_unset && (ch == '#' || ch == '%')) ||
      (!null_is_unset && ch != '+' && ch != '-' && ch != '?' && ch != '#' &&
       ch != '%')) {
    rc = expand__fail(lx, ERR_SYNTAX, at,
                      "unsupported modifier (%s) in substitution",
                      buf_cstr(&chs));
    buf_cleanup(&chs);
    return rc;
  }
  rc = expand__modifier(lx, at, name, nlen, ch, buf_cstr(&chs), null_is_unset,
                        out);
  buf_cleanup(&chs);
  return rc;
}

/*
 * The grammar recurses through ${...} words.  Go grows its stack, C does
 * not, so nesting is capped far beyond anything a Dockerfile needs.
 */
static int expand__dollar(struct expand__lexer *lx, struct buf *out) {
  if (lx->depth >= EXPAND__MAX_DEPTH)
    return expand__fail(lx, ERR_TOOBIG, lx->pos,
                        "variable references nested deeper than %d levels",
                        EXPAND__MAX_DEPTH);
  lx->depth++;
  int rc = expand__dollar_at(lx, out);
  lx->depth--;
  return rc;
}

/* Single quotes: everything literal up to the next quote. */
static int expand__single_quote(struct expand__lexer *lx, struct buf *out) {
  size_t at = lx->pos;
  bool raw = (lx->flags & EXPAND_RAW_QUOTES) != 0;
  int32_t c = expand__next(lx);
  if (raw)
    expand__put_rune(out, c);
  for (;;) {
    c = expand__next(lx);
    if (c == EXPAND__EOF)
      return expand__fail(lx, ERR_SYNTAX, at,
                          "unexpected end of statement while looking for "
                          "matching single-quote");
    if (c == '\'') {
      if (raw)
        expand__put_rune(out, c);
      return 0;
    }
    expand__put_rune(out, c);
  }
}

/* Double quotes: '$' expands; the escape token only escapes '"', '$' and
 * itself, and is kept literally before anything else. */
static int expand__double_quote(struct expand__lexer *lx, struct buf *out) {
  size_t at = lx->pos;
  bool raw = (lx->flags & EXPAND_RAW_QUOTES) != 0;
  int32_t c = expand__next(lx);
  if (raw)
    expand__put_rune(out, c);
  for (;;) {
    c = expand__peek(lx);
    if (c == EXPAND__EOF)
      return expand__fail(lx, ERR_SYNTAX, at,
                          "unexpected end of statement while looking for "
                          "matching double-quote");
    if (c == '"') {
      expand__next(lx);
      if (raw)
        expand__put_rune(out, c);
      return 0;
    }
    if (c == '$') {
      int rc = expand__dollar(lx, out);
      if (rc < 0)
        return rc;
      continue;
    }
    c = expand__next(lx);
    if (c == lx->escape) {
      if (lx->raw_escapes)
        expand__put_rune(out, c);
      int32_t n = expand__peek(lx);
      if (n == EXPAND__EOF)
        continue; /* the missing quote is reported next */
      if (n == '"' || n == '$' || n == lx->escape)
        c = expand__next(lx);
    }
    expand__put_rune(out, c);
  }
}

/*
 * Reads up to `stop` (consumed) or the end of input when stop is EOF,
 * appending the expansion to res and, when w is not NULL, the words.
 */
static int expand__stop_on(struct expand__lexer *lx, int32_t stop,
                           bool raw_escapes, struct buf *res,
                           struct expand__words *w) {
  bool saved = lx->raw_escapes;
  bool quotes = (lx->flags & EXPAND_SKIP_PROCESS_QUOTES) == 0;
  struct buf tmp = BUF_INIT;
  int rc = 0;

  lx->raw_escapes = raw_escapes;
  for (;;) {
    if (w == NULL) {
      /* A run of plain ASCII is copied at once: most words are nothing
       * else, and rune by rune it was most of the analysis's time. */
      size_t p = lx->pos;
      while (p < lx->len) {
        unsigned char b = (unsigned char)lx->src[p];
        if (b >= 0x80 || b == '<' || b == '$' || b == '\'' || b == '"' ||
            b == (unsigned char)lx->escape ||
            (stop != EXPAND__EOF && (int32_t)b == stop))
          break;
        p++;
      }
      if (p > lx->pos) {
        buf_append(res, lx->src + lx->pos, p - lx->pos);
        lx->pos = p;
      }
    }
    int32_t c = expand__peek(lx);
    if (c == EXPAND__EOF)
      break;
    if (stop != EXPAND__EOF && c == stop) {
      expand__next(lx);
      goto out;
    }
    if (c == '<') {
      /* BuildKit (v0.22+) keeps the blanks after an unquoted "<<" in the
       * same word, so "<< EOF" stays one word for heredoc detection. */
      size_t from = lx->pos;
      expand__next(lx);
      if (expand__peek(lx) == '<') {
        expand__next(lx);
        while ((c = expand__peek(lx)) == ' ' || c == '\t' || c == '\r')
          expand__next(lx);
      }
      buf_append(res, lx->src + from, lx->pos - from);
      expand__w_raw_string(w, lx->src + from, lx->pos - from);
      continue;
    }
    if (c == '$' || (quotes && (c == '\'' || c == '"'))) {
      buf_reset(&tmp);
      if (c == '$')
        rc = expand__dollar(lx, &tmp);
      else if (c == '\'')
        rc = expand__single_quote(lx, &tmp);
      else
        rc = expand__double_quote(lx, &tmp);
      if (rc < 0)
        goto out;
      buf_append(res, tmp.data, tmp.len);
      /* Only a variable's value is split into words; quoted text is
       * kept whole. */
      if (c == '$')
        expand__w_string(w, tmp.data, tmp.len);
      else
        expand__w_raw_string(w, tmp.data, tmp.len);
      continue;
    }
    c = expand__next(lx);
    if (c == lx->escape) {
      if (lx->raw_escapes) {
        expand__w_raw_char(w, c);
        expand__put_rune(res, c);
      }
      c = expand__next(lx);
      if (c == EXPAND__EOF)
        break; /* a trailing escape is dropped */
      expand__w_raw_char(w, c);
    } else {
      expand__w_char(w, c);
    }
    expand__put_rune(res, c);
  }
  if (stop != EXPAND__EOF) {
    struct buf s = BUF_INIT;
    expand__put_rune(&s, stop);
    rc = expand__fail(lx, ERR_SYNTAX, lx->pos,
                      "unexpected end of statement while looking for "
                      "matching %s",
                      buf_cstr(&s));
    buf_cleanup(&s);
  }
out:
  lx->raw_escapes = saved;
  buf_cleanup(&tmp);
  return rc;
}

static void expand__init(struct expand__lexer *lx, const char *word,
                         size_t len, const struct expand_opts *opts,
                         const struct expand_env *env,
                         struct expand_report *report, struct err *err) {
  lx->src = word;
  lx->len = len;
  lx->pos = 0;
  lx->escape = opts != NULL && opts->escape == '`' ? '`' : '\\';
  lx->flags = opts != NULL ? opts->flags : 0;
  lx->raw_escapes = (lx->flags & EXPAND_RAW_ESCAPES) != 0;
  lx->depth = 0;
  lx->env = env;
  lx->report = report;
  lx->err = err;
  /* Go's scanner skips a byte-order mark at the very start. */
  if (len >= 3 && memcmp(word, "\xEF\xBB\xBF", 3) == 0)
    lx->pos = 3;
}

int expand_word(const char *word, size_t len, const struct expand_opts *opts,
                const struct expand_env *env, struct expand_report *report,
                char **out, struct err *err) {
  struct expand__lexer lx;
  struct buf res = BUF_INIT;
  *out = NULL;
  expand__init(&lx, word, len, opts, env, report, err);
  int rc = expand__stop_on(&lx, EXPAND__EOF, lx.raw_escapes, &res, NULL);
  if (rc < 0) {
    buf_cleanup(&res);
    return rc;
  }
  *out = buf_take(&res);
  return 0;
}

int expand_words(const char *word, size_t len, const struct expand_opts *opts,
                 const struct expand_env *env, struct expand_report *report,
                 struct strv *out, struct err *err) {
  struct expand__lexer lx;
  struct buf res = BUF_INIT;
  struct strv got = STRV_INIT;
  struct expand__words w = {&got, BUF_INIT, false};
  expand__init(&lx, word, len, opts, env, report, err);
  int rc = expand__stop_on(&lx, EXPAND__EOF, lx.raw_escapes, &res, &w);
  buf_cleanup(&res);
  if (rc == 0) {
    if (w.word.len > 0)
      strv_push_take(&got, buf_take(&w.word));
    for (size_t i = 0; i < got.n; i++)
      strv_push_take(out, got.v[i]);
    free(got.v); /* the strings now belong to out */
  } else {
    strv_cleanup(&got);
  }
  buf_cleanup(&w.word);
  return rc;
}

/* Scans from the end so a later NAME=VALUE wins, as with BuildKit's
 * BuildEnvs; an entry without '=' is a set, empty variable. */
static const char *expand__strv_lookup(void *ctx, const char *name,
                                       size_t len) {
  const struct strv *kv = ctx;
  for (size_t i = kv->n; i-- > 0;) {
    const char *e = kv->v[i];
    const char *eq = strchr(e, '=');
    size_t klen = eq != NULL ? (size_t)(eq - e) : strlen(e);
    if (klen == len && memcmp(e, name, len) == 0)
      return eq != NULL ? eq + 1 : e + klen;
  }
  return NULL;
}

struct expand_env expand_env_from_strv(const struct strv *kv) {
  struct expand_env env = {expand__strv_lookup, (void *)kv};
  return env;
}
