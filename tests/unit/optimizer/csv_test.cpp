#include <catch2/catch.hpp>

#include "optimizer/placement/csv.hpp"

using namespace sky::optimizer;

namespace {

std::vector<std::vector<std::string>>
read_all(std::string text, std::vector<size_t>* lines = nullptr) {
  csv_reader reader{std::move(text)};
  csv_record rec;
  std::vector<std::vector<std::string>> out;
  while (reader.next(rec)) {
    REQUIRE(rec.error.empty());
    out.emplace_back(rec.fields.begin(), rec.fields.end());
    if (lines != nullptr)
      lines->push_back(rec.line);
  }
  return out;
}

} // namespace

TEST_CASE("csv: plain fields, empty fields and a trailing comma") {
  auto rows = read_all("a,b,c\n1,,3\n,x,\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1] == std::vector<std::string>{"1", "", "3"});
  CHECK(rows[2] == std::vector<std::string>{"", "x", ""});
}

TEST_CASE("csv: quoted fields keep commas and doubled quotes") {
  auto rows
    = read_all("t,info\n"
               "x,\"{'Gpus': [{'Name': 'A100', 'Count': 8}], 'T': 1}\"\n"
               "y,\"say \"\"hi\"\", then go\"\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][1] == "{'Gpus': [{'Name': 'A100', 'Count': 8}], 'T': 1}");
  CHECK(rows[2][1] == "say \"hi\", then go");
}

TEST_CASE("csv: CRLF line ends, BOM and blank lines") {
  std::vector<size_t> lines;
  auto rows = read_all("\xEF\xBB\xBFh1,h2\r\n\r\n1,\"2\"\r\n3,4\r\n", &lines);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"h1", "h2"});
  CHECK(rows[1] == std::vector<std::string>{"1", "2"});
  CHECK(rows[2] == std::vector<std::string>{"3", "4"});
  CHECK(lines == std::vector<size_t>{1, 3, 4});
}

TEST_CASE("csv: a newline inside quotes stays in the field and lines count") {
  std::vector<size_t> lines;
  auto rows = read_all("a,b\n\"multi\nline\",2\nnext,3\n", &lines);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][0] == "multi\nline");
  CHECK(lines == std::vector<size_t>{1, 2, 4});
}

TEST_CASE("csv: an unterminated quote is reported, not a crash") {
  csv_reader reader{"a,b\n1,\"open\n"};
  csv_record rec;
  REQUIRE(reader.next(rec));
  CHECK(rec.error.empty());
  REQUIRE(reader.next(rec));
  CHECK(rec.error == "unterminated quoted field");
  CHECK(rec.line == 2);
  CHECK_FALSE(reader.next(rec));
}

TEST_CASE("csv: split_csv_line for one line") {
  std::vector<std::string> f;
  CHECK(split_csv_line("a,\"b,c\",d", f));
  CHECK(f == std::vector<std::string>{"a", "b,c", "d"});
  CHECK_FALSE(split_csv_line("a,\"b", f));
}
