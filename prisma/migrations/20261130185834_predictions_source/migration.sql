-- AlterTable
ALTER TABLE "predictions" ADD COLUMN     "source" VARCHAR(8) NOT NULL DEFAULT 'live';
